import { Module, type DynamicModule } from '@nestjs/common';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { AnalyzerConfig } from './analyzer.config';

export const ANALYZER_SERVICE: ServiceInfo = { name: 'analyzer', defaultPort: DefaultPorts.analyzer };

@Module({})
export class AnalyzerModule {
  static register(config: AnalyzerConfig): DynamicModule {
    return {
      module: AnalyzerModule,
      imports: [PlatformModule.forRoot({ service: ANALYZER_SERVICE, config, uses: { nats: true, mongo: true } })],
    };
  }
}
