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
    tools.register(new SubWorkflowTool(scheduler, store, repo));
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
    const page = await this.repo.list(q.data);
    // A running run's row may be up to a snapshot interval old; its live state is in Redis.
    const items = await Promise.all(
      page.items.map(async (doc) => {
        if (TERMINAL_EXECUTION_STATUSES.has(doc.status)) return toView(doc);
        const live = await this.store.load(doc._id);
        return live ? toExecutionView(live) : toView(doc);
      }),
    );
    return { ok: true, value: { items, nextCursor: page.nextCursor } };
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
