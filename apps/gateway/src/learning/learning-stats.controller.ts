import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { IntentStatsView, LearningHealthView, PatternStatsView } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { AnalyzerClient } from './analyzer.client';
import { StatsQuery } from './learning.schemas';

const limit = ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } });

@ApiTags('learning')
@ApiBearerAuth()
@errorResponses()
@ApiResponse({ status: 503, description: 'No analyzer answered in time', schema: ref('ApiError') })
@Controller('stats')
export class LearningStatsController {
  constructor(private readonly analyzer: AnalyzerClient) {}

  @Get('patterns')
  @ApiOperation({
    summary: 'Per pattern: total (supporting sessions), successful, failed, success rate, mean duration',
    description: 'Most supported first. Per-workflow run statistics are at GET /workflows/:id/stats.',
  })
  @limit
  @ApiResponse({ status: 200, schema: ref('PatternStats') })
  patterns(@Tenant() tenantId: string, @Query(new ZodValidationPipe(StatsQuery)) q: StatsQuery): Promise<PatternStatsView> {
    return this.analyzer.patternStats({ tenantId, limit: q.limit });
  }

  @Get('intents')
  @ApiOperation({ summary: 'Per intent (normalised text of the sessions): total, successful, failed, success rate, mean duration, top patterns' })
  @limit
  @ApiResponse({ status: 200, schema: ref('IntentStats') })
  intents(@Tenant() tenantId: string, @Query(new ZodValidationPipe(StatsQuery)) q: StatsQuery): Promise<IntentStatsView> {
    return this.analyzer.intentStats({ tenantId, limit: q.limit });
  }

  @Get('health')
  @ApiOperation({ summary: 'Learning health: totals, the last 24 h, top automation candidates, the last run' })
  @ApiResponse({ status: 200, schema: ref('LearningHealth') })
  health(@Tenant() tenantId: string, @Query(new ZodValidationPipe(StatsQuery)) q: StatsQuery): Promise<LearningHealthView> {
    return this.analyzer.health({ tenantId, limit: q.limit });
  }
}
