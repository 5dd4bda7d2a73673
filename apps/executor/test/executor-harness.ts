import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import type { NatsConnection, Subscription } from 'nats';
import {
  executorSubjects,
  toolSubject,
  type ExecutionView,
  type ExecutorReply,
  type ListExecutionsReply,
  type StartExecutionReply,
  type StartExecutionRequest,
  type ToolReply,
  type ToolRequest,
} from '@toolpath/contracts';
import { createServiceApp, loadConfig } from '@toolpath/platform';
import { connectTestNats, createTestEventsStream, dropTestResources, isolatedEnv, testNames, waitFor, type TestNames } from '@toolpath/testing';
import { executorConfigSchema } from '../src/executor.config';
import { ExecutorModule } from '../src/executor.module';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const TENANT = 'acme';

/** One isolated executor world: names, a NATS client speaking the gateway's protocol, and executors. */
export class ExecutorHarness {
  readonly names: TestNames = testNames('exec');
  readonly env: Record<string, string>;
  nc!: NatsConnection;
  readonly apps: INestApplication[] = [];
  /**
   * The test's own client on the executors' Redis, to look at or tamper with their keys (the
   * layout RunStore documents: `{<queuePrefix>}:run:<id>`, `:outbox`, ...); connects on first use.
   */
  readonly redis: Redis;
  private readonly subs: Subscription[] = [];

  constructor(extraEnv: Record<string, string> = {}) {
    this.env = { ...isolatedEnv(this.names), EXECUTOR_LOCK_DURATION_MS: '2000', EXECUTOR_STALLED_INTERVAL_MS: '1000', ...extraEnv };
    this.redis = new Redis(this.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  }

  /** A key of this test's executors, e.g. `key('run', id)` or `key('outbox')`. */
  key(...parts: string[]): string {
    return [`{${this.names.queuePrefix}}`, ...parts].join(':');
  }

  async setup(): Promise<void> {
    this.nc = await connectTestNats();
    await createTestEventsStream(this.nc, this.names);
  }

  /** Starts an executor in this process. */
  async startExecutor(extraEnv: Record<string, string> = {}): Promise<INestApplication> {
    const config = loadConfig(executorConfigSchema, { ...this.env, ...extraEnv });
    const app = await createServiceApp(ExecutorModule.register(config));
    await app.init();
    this.apps.push(app);
    return app;
  }

  async request<T>(subject: string, body: unknown, timeoutMs = 10_000): Promise<ExecutorReply<T>> {
    const msg = await this.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: timeoutMs });
    return JSON.parse(dec.decode(msg.data)) as ExecutorReply<T>;
  }

  get subjects() {
    return executorSubjects(this.names.subjectPrefix);
  }

  start(req: Omit<StartExecutionRequest, 'tenantId'> & { tenantId?: string }): Promise<ExecutorReply<StartExecutionReply>> {
    return this.request<StartExecutionReply>(this.subjects.start, { tenantId: TENANT, ...req });
  }

  async startOk(req: Omit<StartExecutionRequest, 'tenantId'>): Promise<string> {
    const r = await this.start(req);
    if (!r.ok) throw new Error(`start refused: ${JSON.stringify(r.error)}`);
    return r.value.executionId;
  }

  async get(executionId: string, tenantId = TENANT): Promise<ExecutorReply<ExecutionView>> {
    return this.request<ExecutionView>(this.subjects.get, { tenantId, executionId });
  }

  async cancel(executionId: string): Promise<ExecutorReply<ExecutionView>> {
    return this.request<ExecutionView>(this.subjects.cancel, { tenantId: TENANT, executionId });
  }

  async list(body: Record<string, unknown> = {}): Promise<ExecutorReply<ListExecutionsReply>> {
    return this.request<ListExecutionsReply>(this.subjects.list, { tenantId: TENANT, ...body });
  }

  /** Waits until the run is terminal and returns its view. */
  async finished(executionId: string, timeoutMs = 20_000): Promise<ExecutionView> {
    return waitFor(
      async () => {
        const r = await this.get(executionId);
        return r.ok && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.value.status) ? r.value : undefined;
      },
      { timeoutMs, intervalMs: 20, what: `run ${executionId} to finish` },
    );
  }

  /** Serves a tool over NATS like a provider would; `handle` decides each reply. */
  serveTool(name: string, handle: (req: ToolRequest) => Promise<ToolReply | null> | ToolReply | null): Subscription {
    const sub = this.nc.subscribe(toolSubject(this.names.subjectPrefix, name), {
      queue: 'toolpath-tools',
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          const reply = await handle(JSON.parse(dec.decode(msg.data)) as ToolRequest);
          if (reply) msg.respond(enc.encode(JSON.stringify(reply)));
        })();
      },
    });
    this.subs.push(sub);
    return sub;
  }

  async teardown(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    // The executors first, so that nothing writes after the cleanup.
    for (const app of this.apps.splice(0)) await app.close().catch(() => undefined);
    await this.purgeRedis().catch(() => undefined);
    this.redis.disconnect();
    if (this.nc) {
      const kv = await this.nc.jetstreamManager().then((m) => m.streams.delete(`KV_${this.names.subjectPrefix}_tools`)).catch(() => undefined);
      void kv;
      await this.nc.close();
    }
    await dropTestResources(this.names).catch(() => undefined);
  }

  /** Removes every key under this test's queue prefix: the step queue's and the run store's. */
  private async purgeRedis(): Promise<void> {
    const stream = this.redis.scanStream({ match: this.key('*'), count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) await this.redis.del(...keys);
  }
}

export const delayStep = (id: string, ms: number, extra: Record<string, unknown> = {}) => ({ id, tool: 'core.delay', parameters: { ms }, ...extra });
export const workflow = (steps: unknown[], name = 'test workflow') => ({ name, description: 'test', source: 'user', steps });
