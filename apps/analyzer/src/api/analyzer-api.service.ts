import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  ANALYZER_QUEUE_GROUP,
  AnalyzerRunRefSchema,
  FlowStatsRequestSchema,
  InvalidCursorError,
  ListPatternsRequestSchema,
  MarkPromotedRequestSchema,
  PatternRefSchema,
  StartAnalyzerRunRequestSchema,
  StatsRequestSchema,
  SuggestRequestSchema,
  VariantStatsRequestSchema,
  analyzerSubjects,
  errorReply as fail,
  okReply as ok,
  type AnalyzerRunView,
} from '@toolpath/contracts';
import { APP_CONFIG, HealthRegistry, NatsClient, NatsRequestServer } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import { PatternPromotions } from '../patterns/pattern-promotions';
import { AnalyzerRunService } from '../runs/analyzer-run.service';
import { RunRepository, runView, visibleTo, type RunRecord } from '../runs/run.repository';
import { TenantStates } from '../state/tenant-states.service';
import { LearningStatsService } from '../stats/learning-stats.service';
import { SuggestionsService } from '../suggestions/suggestions.service';

/**
 * The analyzer's request/reply API (queue group `analyzer`: one analyzer answers each request).
 * Every request names its tenant and every answer is built from that tenant's state only.
 */
@Injectable()
export class AnalyzerApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: NatsRequestServer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    private readonly runs: AnalyzerRunService,
    private readonly runRows: RunRepository,
    private readonly promotions: PatternPromotions,
    private readonly states: TenantStates,
    private readonly suggestions: SuggestionsService,
    private readonly stats: LearningStatsService,
    nats: NatsClient,
    health: HealthRegistry,
  ) {
    this.server = new NatsRequestServer({ service: 'analyzer', queue: ANALYZER_QUEUE_GROUP, nats, health, confirmTimeoutMs: config.DEPENDENCY_TIMEOUT_MS });
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = analyzerSubjects(this.config.TOOLPATH_SUBJECT_PREFIX);
    this.server.serve(s.run, StartAnalyzerRunRequestSchema, async (q) => {
      const outcome = await this.runs.requested(q.mode, q.tenantId, q.waitMs);
      if (!outcome.started) {
        return fail(409, 'run_in_progress', `another analyzer run holds the lock${outcome.holder ? ` (${outcome.holder})` : ''}; try again shortly`, {
          runId: outcome.holder ?? null,
        });
      }
      return ok(runView(outcome.run, q.tenantId));
    });
    this.server.serve(s.getRun, AnalyzerRunRefSchema, async (q) => {
      const run = await this.findRun(q.tenantId, q.runId);
      return run ? ok(run) : fail(404, 'not_found', q.runId === 'latest' ? 'no analyzer run yet' : `no analyzer run "${q.runId}"`, [{ field: 'id', message: 'unknown run' }]);
    });
    this.server.serve(s.listPatterns, ListPatternsRequestSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      try {
        return ok(entry.views.list(q));
      } catch (err) {
        if (err instanceof InvalidCursorError) return fail(400, 'invalid_cursor', err.message, [{ field: 'cursor', message: err.message }]);
        throw err;
      }
    });
    this.server.serve(s.getPattern, PatternRefSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      const p = entry.views.get(q.patternId);
      if (!p) return fail(404, 'not_found', `no pattern "${q.patternId}"`, [{ field: 'id', message: 'unknown pattern' }]);
      return ok(entry.views.detail(p, q.examples));
    });
    this.server.serve(s.markPromoted, MarkPromotedRequestSchema, async (q) => {
      const outcome = await this.promotions.markPromoted(q.tenantId, q.patternId, q.workflowId);
      if (outcome === 'unknown_pattern') return fail(404, 'not_found', `no pattern "${q.patternId}"`, [{ field: 'id', message: 'unknown pattern' }]);
      if (outcome === 'no_state') return fail(404, 'not_found', `no learned state for this tenant`);
      return ok({ patternId: q.patternId, workflowId: q.workflowId });
    });
    this.server.serve(s.suggest, SuggestRequestSchema, async (q) => ok(await this.suggestions.suggest(q.tenantId, q)));
    this.server.serve(s.patternStats, StatsRequestSchema, async (q) => ok(this.stats.patterns(await this.states.forRead(q.tenantId), q.limit)));
    this.server.serve(s.intentStats, StatsRequestSchema, async (q) => ok(this.stats.intents(await this.states.forRead(q.tenantId), q.limit)));
    this.server.serve(s.flowStats, FlowStatsRequestSchema, async (q) => ok(this.stats.flow(await this.states.forRead(q.tenantId), q)));
    this.server.serve(s.variantStats, VariantStatsRequestSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      try {
        return ok(this.stats.variants(entry, q));
      } catch (err) {
        if (err instanceof InvalidCursorError) return fail(400, 'invalid_cursor', err.message, [{ field: 'cursor', message: err.message }]);
        throw err;
      }
    });
    this.server.serve(s.health, StatsRequestSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      return ok(this.stats.health(entry, (await this.findRun(q.tenantId, 'latest')) ?? null));
    });
    await this.server.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }

  /** A run this tenant may see; `latest` is the newer of the last incremental run and its own last rebuild. */
  private async findRun(tenantId: string, runId: string): Promise<AnalyzerRunView | undefined> {
    const repo = this.runRows;
    if (runId !== 'latest') {
      const r = await repo.get(runId);
      return r && visibleTo(r, tenantId) ? runView(r, tenantId) : undefined;
    }
    const entry = await this.states.forRead(tenantId);
    const ids = [await repo.latestIncrementalId(), entry.state.lastFullRunId].filter((x): x is string => typeof x === 'string');
    const found = (await Promise.all(ids.map((id) => repo.get(id)))).filter((r): r is RunRecord => r !== undefined && visibleTo(r, tenantId));
    found.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
    return found[0] ? runView(found[0], tenantId) : undefined;
  }
}
