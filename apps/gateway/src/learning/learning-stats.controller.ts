import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FlowStatsView, IntentStatsView, LearningHealthView, PatternStatsView, VariantPageView } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodQuery } from '../docs/zod-openapi';
import { AnalyzerClient } from './analyzer.client';
import { FlowStatsQuery, StatsQuery, VariantStatsQuery } from './learning.schemas';

const filtersExplained =
  'Filters combine (AND). `basis` says how the answer was computed and whether it is exact: the whole graph and the graph of one user, agent or intent are kept as sessions close (exact); a time range is served by a scan of the most recently closed sessions when they reach back far enough (exact), else by hour/day/month/year buckets (the range is widened to whole buckets: `basis.from`/`basis.to` give the range counted, `exact: false`); other combinations scan the recent sessions (`exact: false` with a note when older sessions could match). See docs/ANALYZER.md, "Process map".';

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
  @ApiZodQuery(StatsQuery)
  @ApiResponse({ status: 200, schema: ref('PatternStats') })
  patterns(@Tenant() tenantId: string, @Query(new ZodValidationPipe(StatsQuery)) q: StatsQuery): Promise<PatternStatsView> {
    return this.analyzer.patternStats({ tenantId, limit: q.limit });
  }

  @Get('intents')
  @ApiOperation({ summary: 'Per intent (normalised text of the sessions): total, successful, failed, success rate, mean duration, top patterns' })
  @ApiZodQuery(StatsQuery)
  @ApiResponse({ status: 200, schema: ref('IntentStats') })
  intents(@Tenant() tenantId: string, @Query(new ZodValidationPipe(StatsQuery)) q: StatsQuery): Promise<IntentStatsView> {
    return this.analyzer.intentStats({ tenantId, limit: q.limit });
  }

  @Get('flow')
  @ApiOperation({
    summary: 'Process map: the directly-follows graph of this tenant\'s closed sessions',
    description:
      'Per tool its occurrences (`activities`); per edge `from → to` the number of times a call of `to` directly follows a call of `from` in the same session (as pm4py\'s discover_dfg counts), with the mean and p95 gap, where gap = to.startedAt − (from.startedAt + from.durationMs), floored at 0 (mean exact, p95 from a log-bucket sketch: within 2 % for the whole graph and recent-session scans, 10 % for per-key and time-bucket answers); `starts`/`ends`: first and last tool per session. Sessions with at least one call count. Maintained as sessions close, not recomputed per request. ' +
      filtersExplained,
  })
  @ApiZodQuery(FlowStatsQuery)
  @ApiResponse({ status: 200, schema: ref('FlowStats') })
  flow(@Tenant() tenantId: string, @Query(new ZodValidationPipe(FlowStatsQuery)) q: FlowStatsQuery): Promise<FlowStatsView> {
    return this.analyzer.flowStats({ tenantId, ...q });
  }

  @Get('variants')
  @ApiOperation({
    summary: 'Variants: the distinct tool sequences of whole sessions, most frequent first (cursor pagination)',
    description:
      'Each with its count, share, success rate (the session_end says so, or every call succeeded) and mean session duration. Unfiltered answers come from a maintained table of at most 10,000 variants (cut back to the 5,000 most frequent when full: `otherSessions` counts the sessions of variants cut, and a variant first seen after a cut has `exact: false`); filtered answers scan the most recently closed sessions (`basis.exact: false` when older sessions could match). ' +
      filtersExplained,
  })
  @ApiZodQuery(VariantStatsQuery)
  @ApiResponse({ status: 200, schema: ref('VariantPage') })
  variants(@Tenant() tenantId: string, @Query(new ZodValidationPipe(VariantStatsQuery)) q: VariantStatsQuery): Promise<VariantPageView> {
    return this.analyzer.variantStats({ tenantId, ...q });
  }

  @Get('health')
  @ApiOperation({ summary: 'Learning health: totals, the last 24 h, top automation candidates, the last run' })
  @ApiResponse({ status: 200, schema: ref('LearningHealth') })
  health(@Tenant() tenantId: string, @Query(new ZodValidationPipe(StatsQuery)) q: StatsQuery): Promise<LearningHealthView> {
    return this.analyzer.health({ tenantId, limit: q.limit });
  }
}
