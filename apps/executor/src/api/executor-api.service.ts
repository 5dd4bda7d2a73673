import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ErrorCode, type Msg, type Subscription } from 'nats';
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
import { APP_CONFIG, HealthRegistry, NatsClient } from '@toolpath/platform';
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
 *
 * A subscription serves until the executor shuts down: no handler outcome (a throw, a rejected
 * promise, a reply NATS refuses) escapes its callback, because an exception thrown there would
 * stop nats.js reading the connection. Should one end anyway, `/health` reports `api` down.
 */
@Injectable()
export class ExecutorApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ExecutorApi');
  private readonly subs: Subscription[] = [];
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly nats: NatsClient,
    private readonly scheduler: RunScheduler,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly aborts: RunAborts,
    private readonly health: HealthRegistry,
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
    this.track(
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
      this.track(
        nc.subscribe(subject, {
          queue: EXECUTOR_QUEUE_GROUP,
          callback: (err, msg) => {
            if (err) return;
            this.answer(msg, handle).catch((e: unknown) => this.log.error(`request on ${msg.subject} not answered: ${describe(e)}`));
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
    // SUB only reaches the server with the connection's next write, and the server handles each
    // connection on its own: a request another client sends the moment this executor reports
    // started could find no responder (503). A round trip after the SUBs means the server has
    // them; only then is the API up.
    await this.confirmSubscriptions();
    this.health.register('api', async () => {
      const closed = this.subs.filter((sub) => sub.isClosed()).map((sub) => sub.getSubject());
      if (closed.length > 0) throw new Error(`not subscribed to ${closed.join(', ')}`);
    });
  }

  private track(sub: Subscription): void {
    this.subs.push(sub);
    void sub.closed.then(() => {
      if (!this.stopping) this.log.error(`subscription to ${sub.getSubject()} ended: this executor no longer answers it`);
    });
  }

  private async confirmSubscriptions(): Promise<void> {
    const ms = this.config.DEPENDENCY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.nats.nc.flush(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`NATS did not confirm the subscriptions within ${ms} ms`)), ms);
        }),
      ]);
    } catch (err) {
      // NATS is unreachable: nats.js sends the subscriptions again when it reconnects, and /health
      // reports nats down meanwhile.
      this.log.warn(`${describe(err)}; serving once NATS is back`);
    } finally {
      clearTimeout(timer);
    }
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
        this.respond(msg, fail(400, 'invalid_json', 'request body is not JSON'));
        return;
      }
      reply = await handle(body);
    } catch (err) {
      this.log.error(`request on ${msg.subject} failed: ${describe(err)}`);
      reply = fail(503, 'unavailable', `executor could not answer: ${describe(err)}`);
    }
    this.respond(msg, reply);
  }

  /** Sends a reply; one NATS refuses (larger than the server's max payload) becomes an error reply. */
  private respond(msg: Msg, reply: ExecutorReply<unknown>): void {
    const data = encoder.encode(JSON.stringify(reply));
    try {
      msg.respond(data);
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCode.MaxPayloadExceeded) throw err;
      const max = this.nats.nc.info?.max_payload;
      this.log.error(`reply on ${msg.subject} is ${data.length} bytes, over the NATS max payload (${max ?? '?'} bytes)`);
      msg.respond(encoder.encode(JSON.stringify(fail(500, 'reply_too_large', `the reply is ${data.length} bytes, more than NATS carries (max_payload ${max ?? '?'} bytes)`))));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.subs.map((s) => s.drain()));
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
