import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Msg, Subscription } from 'nats';
import {
  EXECUTOR_QUEUE_GROUP,
  ExecutionRefSchema,
  ListExecutionsRequestSchema,
  TERMINAL_EXECUTION_STATUSES,
  executorAbortSubject,
  executorSubjects,
  type ExecutorAbortMessage,
  type ExecutorReply,
  type ExecutionView,
  type ListExecutionsReply,
} from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { ExecutorConfig } from '../executor.config';
import { ExecutionRepository, toView } from '../runs/execution.repository';
import { toExecutionView } from '../runs/execution-view';
import { RunAborts } from '../runs/run-aborts';
import { RunScheduler, fail } from '../runs/run-scheduler.service';
import { RunStore } from '../runs/run-store';
import { SubWorkflowTool } from '../runs/sub-workflow.tool';
import { ToolInvoker } from '../tools/tool-invoker.service';

const encoder = new TextEncoder();
/** Live runs a list request looks at (runs not yet written to Mongo are at most the in-flight ones). */
const LIVE_LIST_LIMIT = 1000;
const decoder = new TextDecoder();

/**
 * The executor's NATS request/reply API (start, get, list, cancel; queue group `executor`) and
 * the abort broadcast every executor listens to.
 */
@Injectable()
export class ExecutorApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ExecutorApi');
  private readonly subs: Subscription[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly nats: NatsClient,
    private readonly scheduler: RunScheduler,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly aborts: RunAborts,
    tools: ToolInvoker,
  ) {
    tools.register(new SubWorkflowTool(scheduler, store, repo, () => this.nats.nc, config.TOOLPATH_SUBJECT_PREFIX));
  }

  async onApplicationBootstrap(): Promise<void> {
    const nc = this.nats.nc;
    const prefix = this.config.TOOLPATH_SUBJECT_PREFIX;
    const subjects = executorSubjects(prefix);
    await this.nats.ensureEventsStream();
    void this.repo.ensureIndexes();
    this.subs.push(
      nc.subscribe(executorAbortSubject(prefix), {
        callback: (err, msg) => {
          if (err) return;
          try {
            const m = JSON.parse(decoder.decode(msg.data)) as ExecutorAbortMessage;
            if (typeof m.executionId === 'string') this.aborts.abort(m.executionId, String(m.reason ?? 'cancelled'));
          } catch {
            // A malformed broadcast aborts nothing.
          }
        },
      }),
    );
    this.scheduler.onAbort(async (executionId, reason) => {
      this.aborts.abort(executionId, reason);
      const m: ExecutorAbortMessage = { executionId, reason };
      nc.publish(executorAbortSubject(prefix), encoder.encode(JSON.stringify(m)));
    });
    const serve = (subject: string, handle: (body: unknown) => Promise<ExecutorReply<unknown>>) => {
      this.subs.push(
        nc.subscribe(subject, {
          queue: EXECUTOR_QUEUE_GROUP,
          callback: (err, msg) => {
            if (err) return;
            void this.answer(msg, handle);
          },
        }),
      );
    };
    serve(subjects.start, (body) => this.scheduler.start(body));
    serve(subjects.get, async (body) => {
      const ref = ExecutionRefSchema.safeParse(body);
      if (!ref.success) return fail(400, 'invalid_request', ref.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return this.scheduler.get(ref.data.tenantId, ref.data.executionId);
    });
    serve(subjects.cancel, async (body) => {
      const ref = ExecutionRefSchema.safeParse(body);
      if (!ref.success) return fail(400, 'invalid_request', ref.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return this.scheduler.cancel(ref.data.tenantId, ref.data.executionId);
    });
    serve(subjects.list, (body) => this.list(body));
  }

  private async list(body: unknown): Promise<ExecutorReply<ListExecutionsReply>> {
    const q = ListExecutionsRequestSchema.safeParse(body);
    if (!q.success) return fail(400, 'invalid_request', q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const query = q.data;
    // Mongo has the runs written so far; a run younger than a snapshot interval, or ended but not
    // yet written, is only in Redis (the tenant's live list), and a running run's row may be up
    // to an interval old: live state wins.
    const [page, liveIds] = await Promise.all([this.repo.list(query), this.store.liveIds(query.tenantId, LIVE_LIST_LIMIT)]);
    const candidates = liveIds.filter((id) => query.cursor === undefined || id < query.cursor);
    const live = new Map<string, ExecutionView>();
    const runs = await Promise.all(candidates.map((id) => this.store.load(id)));
    for (const run of runs) {
      if (!run || run.meta.tenantId !== query.tenantId) continue;
      if (query.workflowId !== undefined && run.meta.workflowId !== query.workflowId) continue;
      if (query.status !== undefined && run.meta.status !== query.status) continue;
      live.set(run.meta.id, toExecutionView(run));
    }
    const items = await Promise.all(
      page.items.map(async (doc) => {
        const fresh = live.get(doc._id);
        if (fresh) {
          live.delete(doc._id);
          return fresh;
        }
        if (TERMINAL_EXECUTION_STATUSES.has(doc.status)) return toView(doc);
        const run = await this.store.load(doc._id);
        return run ? toExecutionView(run) : toView(doc);
      }),
    );
    // A live run newer than the page's last row belongs to this page; older ones to later pages.
    const lastRow = page.nextCursor;
    for (const view of live.values()) if (lastRow === null || view.id > lastRow) items.push(view);
    items.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const more = items.length > query.limit || page.nextCursor !== null;
    const kept = items.slice(0, query.limit);
    return { ok: true, value: { items: kept, nextCursor: more && kept.length > 0 ? kept[kept.length - 1].id : null } };
  }

  private async answer(msg: Msg, handle: (body: unknown) => Promise<ExecutorReply<unknown>>): Promise<void> {
    let reply: ExecutorReply<unknown>;
    try {
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(msg.data));
      } catch {
        reply = fail(400, 'invalid_json', 'request body is not JSON');
        msg.respond(encoder.encode(JSON.stringify(reply)));
        return;
      }
      reply = await handle(body);
    } catch (err) {
      this.log.error(`request on ${msg.subject} failed: ${(err as Error).message}`);
      reply = fail(503, 'unavailable', `executor could not answer: ${(err as Error).message}`);
    }
    msg.respond(encoder.encode(JSON.stringify(reply)));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.subs.map((s) => s.drain()));
  }
}
