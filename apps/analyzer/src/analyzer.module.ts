import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { AnalyzerConfig } from './analyzer.config';
import { AnalyzerMetrics } from './analyzer.metrics';
import { INFRASTRUCTURE_PROVIDERS } from './analyzer.providers';
import { AnalyzerApi } from './api/analyzer-api.service';
import { PatternPromotions } from './patterns/pattern-promotions';
import { AnalyzerRunService } from './runs/analyzer-run.service';
import { AnalyzerScheduler } from './runs/analyzer.scheduler';
import { AutoPromoter } from './runs/auto-promoter';
import { TenantStates } from './state/tenant-states.service';
import { LearningStatsService } from './stats/learning-stats.service';
import { SuggestionsService } from './suggestions/suggestions.service';

export const ANALYZER_SERVICE: ServiceInfo = { name: 'analyzer', defaultPort: DefaultPorts.analyzer };

@Module({})
export class AnalyzerModule {
  static register(config: AnalyzerConfig): DynamicModule {
    return {
      module: AnalyzerModule,
      imports: [
        PlatformModule.forRoot({ service: ANALYZER_SERVICE, config, uses: { nats: true, mongo: true, redis: true } }),
        ScheduleModule.forRoot(),
      ],
      providers: [...INFRASTRUCTURE_PROVIDERS, AnalyzerMetrics, TenantStates, PatternPromotions, AutoPromoter, SuggestionsService, LearningStatsService, AnalyzerRunService, AnalyzerScheduler, AnalyzerApi],
    };
  }
}
