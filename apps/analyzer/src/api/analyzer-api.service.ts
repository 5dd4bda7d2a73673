import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Msg, Subscription } from 'nats';
import type { z } from 'zod';
import {
  ANALYZER_QUEUE_GROUP,
  AnalyzerRunRefSchema,
  ListPatternsRequestSchema,
  MarkPromotedRequestSchema,
  PatternRefSchema,
  StartAnalyzerRunRequestSchema,
  StatsRequestSchema,
  SuggestRequestSchema,
  analyzerSubjects,
  formatPath,
  type AnalyzerRunView,
  type ExecutorReply,
} from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import { InvalidPatternCursorError } from '../patterns/pattern-views';
import { AnalyzerRunService } from '../runs/analyzer-run.service';
import { runView, visibleTo, type RunRecord } from '../runs/run.repository';
import { TenantStates } from '../state/tenant-states.service';
import { LearningStatsService } from '../stats/learning-stats.service';
import { SuggestionsService } from '../suggestions/suggestions.service';

type Reply<T> = ExecutorReply<T>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const ok = <T>(value: T): Reply<T> => ({ ok: true, value });
const fail = (status: number, code: string, message: string, details?: unknown): Reply<never> => ({
  ok: false,
  error: { status, code, message, ...(details !== undefined ? { details } : {}) },
});

/**
 * The analyzer's request/reply API (queue group `analyzer`: one analyzer answers each request).
 * Every request names its tenant and every answer is built from that tenant's state only.
 */
@Injectable()
export class AnalyzerApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AnalyzerApi');
  private readonly subs: Subscription[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    private readonly nats: NatsClient,
    private readonly runs: AnalyzerRunService,
    private readonly states: TenantStates,
    private readonly suggestions: SuggestionsService,
    private readonly stats: LearningStatsService,
  ) {}

  onApplicationBootstrap(): void {
    const s = analyzerSubjects(this.config.TOOLPATH_SUBJECT_PREFIX);
    this.serve(s.run, StartAnalyzerRunRequestSchema, async (q) => {
      const outcome = await this.runs.requested(q.mode, q.tenantId, q.waitMs);
      if (!outcome.started) {
        return fail(409, 'run_in_progress', `another analyzer run holds the lock${outcome.holder ? ` (${outcome.holder})` : ''}; try again shortly`, {
          runId: outcome.holder ?? null,
        });
      }
      return ok(runView(outcome.run, q.tenantId));
    });
    this.serve(s.getRun, AnalyzerRunRefSchema, async (q) => {
      const run = await this.findRun(q.tenantId, q.runId);
      return run ? ok(run) : fail(404, 'not_found', q.runId === 'latest' ? 'no analyzer run yet' : `no analyzer run "${q.runId}"`, [{ field: 'id', message: 'unknown run' }]);
    });
    this.serve(s.listPatterns, ListPatternsRequestSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      try {
        return ok(entry.views.list(q));
      } catch (err) {
        if (err instanceof InvalidPatternCursorError) return fail(400, 'invalid_cursor', err.message, [{ field: 'cursor', message: err.message }]);
        throw err;
      }
    });
    this.serve(s.getPattern, PatternRefSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      const p = entry.views.get(q.patternId);
      if (!p) return fail(404, 'not_found', `no pattern "${q.patternId}"`, [{ field: 'id', message: 'unknown pattern' }]);
      return ok(entry.views.detail(p, q.examples));
    });
    this.serve(s.markPromoted, MarkPromotedRequestSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      if (!entry.views.get(q.patternId)) return fail(404, 'not_found', `no pattern "${q.patternId}"`, [{ field: 'id', message: 'unknown pattern' }]);
      if (!(await this.states.repo.markPromoted(q.tenantId, q.patternId, q.workflowId))) return fail(404, 'not_found', `no learned state for this tenant`);
      await this.runs.patternRepository.markPromoted(q.tenantId, q.patternId, q.workflowId);
      entry.state.promoted.set(q.patternId, q.workflowId);
      entry.state.revision++;
      // Our copy already has the promotion: bring its revision marker in line so it is not reloaded.
      const meta = await this.states.repo.headMeta(q.tenantId);
      if (meta && meta.version === entry.state.meta.version) entry.state.meta.promotedRev = meta.promotedRev;
      return ok({ patternId: q.patternId, workflowId: q.workflowId });
    });
    this.serve(s.suggest, SuggestRequestSchema, async (q) => ok(await this.suggestions.suggest(q.tenantId, q)));
    this.serve(s.patternStats, StatsRequestSchema, async (q) => ok(this.stats.patterns(await this.states.forRead(q.tenantId), q.limit)));
    this.serve(s.intentStats, StatsRequestSchema, async (q) => ok(this.stats.intents(await this.states.forRead(q.tenantId), q.limit)));
    this.serve(s.health, StatsRequestSchema, async (q) => {
      const entry = await this.states.forRead(q.tenantId);
      return ok(this.stats.health(entry, (await this.findRun(q.tenantId, 'latest')) ?? null));
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.subs.map((s) => s.drain()));
  }

  /** A run this tenant may see; `latest` is the newer of the last incremental run and its own last rebuild. */
  private async findRun(tenantId: string, runId: string): Promise<AnalyzerRunView | undefined> {
    const repo = this.runs.runRepository;
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

  private serve<S extends z.ZodType>(subject: string, schema: S, handle: (q: z.infer<S>) => Promise<Reply<unknown>>): void {
    this.subs.push(
      this.nats.nc.subscribe(subject, {
        queue: ANALYZER_QUEUE_GROUP,
        callback: (err, msg) => {
          if (err) return;
          void this.answer(msg, schema, handle);
        },
      }),
    );
  }

  private async answer<S extends z.ZodType>(msg: Msg, schema: S, handle: (q: z.infer<S>) => Promise<Reply<unknown>>): Promise<void> {
    let reply: Reply<unknown>;
    try {
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(msg.data));
      } catch {
        body = undefined;
      }
      const parsed = body === undefined ? undefined : schema.safeParse(body);
      if (!parsed) reply = fail(400, 'invalid_json', 'request body is not JSON');
      else if (!parsed.success) {
        const details = parsed.error.issues.map((i) => ({ field: formatPath(i.path), message: i.message }));
        reply = fail(400, 'invalid_request', details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
      } else reply = await handle(parsed.data);
    } catch (err) {
      this.log.error(`request on ${msg.subject} failed: ${(err as Error).stack ?? (err as Error).message}`);
      reply = fail(503, 'unavailable', `the analyzer could not answer: ${(err as Error).message}`);
    }
    msg.respond(encoder.encode(JSON.stringify(reply)));
  }
}
