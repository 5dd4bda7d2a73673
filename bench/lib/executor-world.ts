/**
 * One executor "world" for the benches: an isolated stream, database and queue prefix, executor
 * processes started on it, and the client side (start requests, and the updates the executor
 * publishes), shared by executor.bench and executor-pair.bench.
 */
import Redis from 'ioredis';
import type { Subscription } from 'nats';
import { executorSubjects, type ExecutionUpdate, type ExecutionView, type ExecutorReply, type StartExecutionReply } from '@toolpath/contracts';
import { createTestEventsStream, isolatedEnv, startService, testUrls, type ServiceProcess, type TestNames } from '@toolpath/testing';
import { BENCH_TENANT } from './events';
import { type Cleanup, phaseNames, type Infra } from './pipeline';
import { quantile } from './report';

const enc = new TextEncoder();
const dec = new TextDecoder();
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export const transformRun = (value: unknown = 1) => ({
  name: 'bench no-op',
  description: 'one core.transform step',
  source: 'user',
  steps: [{ id: 'only', tool: 'core.transform', parameters: { value } }],
});
export const delayStep = (id: string, ms: number, dependsOn?: string[]) => ({ id, tool: 'core.delay', parameters: { ms }, ...(dependsOn ? { dependsOn } : {}) });
export const workflowOf = (steps: unknown[], name = 'bench') => ({ name, description: 'bench', source: 'user', steps });

/** The client side of one executor world: start requests, and the updates it publishes. */
export class ExecutorClient {
  private readonly sub: Subscription;
  /** executionId -> when (performance.now) the run reached a terminal status, and which. */
  private readonly ended = new Map<string, { at: number; status: string }>();
  private readonly firstRunning = new Map<string, number>();
  /** `<executionId>/<stepId>` -> when the step's COMPLETED update arrived. */
  private readonly stepCompleted = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();

  constructor(
    private readonly infra: Infra,
    readonly names: TestNames,
  ) {
    this.sub = infra.nc.subscribe(`${names.subjectPrefix}.executions.${BENCH_TENANT}.>`, {
      callback: (err, msg) => {
        if (err) return;
        const at = performance.now();
        const u = JSON.parse(dec.decode(msg.data)) as ExecutionUpdate;
        if (u.kind === 'step' && u.status === 'RUNNING' && !this.firstRunning.has(u.executionId)) this.firstRunning.set(u.executionId, at);
        if (u.kind === 'step' && u.status === 'COMPLETED' && this.tracksSteps) this.stepCompleted.set(`${u.executionId}/${u.stepId}`, at);
        if (u.kind === 'run' && TERMINAL.has(u.status)) {
          this.ended.set(u.executionId, { at, status: u.status });
          this.waiters.get(u.executionId)?.();
        }
      },
    });
  }

  /** Record each step's COMPLETED update (off by default: a wide run has hundreds). */
  tracksSteps = false;

  /** When (performance.now) the step's COMPLETED update arrived, if it did and steps are tracked. */
  completedAt(executionId: string, stepId: string): number | undefined {
    return this.stepCompleted.get(`${executionId}/${stepId}`);
  }

  /** The subscription is live at the server once this resolves. */
  async ready(): Promise<void> {
    await this.infra.nc.flush();
  }

  async request<T>(subject: string, body: unknown, timeoutMs = 30_000): Promise<T> {
    const msg = await this.infra.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: timeoutMs });
    const reply = JSON.parse(dec.decode(msg.data)) as ExecutorReply<T>;
    if (!reply.ok) throw new Error(`${subject}: ${reply.error.code}: ${reply.error.message}`);
    return reply.value;
  }

  start(definition: unknown, extra: Record<string, unknown> = {}): Promise<StartExecutionReply> {
    return this.request<StartExecutionReply>(executorSubjects(this.names.subjectPrefix).start, { tenantId: BENCH_TENANT, definition, ...extra });
  }

  get(executionId: string): Promise<ExecutionView> {
    return this.request<ExecutionView>(executorSubjects(this.names.subjectPrefix).get, { tenantId: BENCH_TENANT, executionId });
  }

  /** Waits for the run's terminal update; returns when it arrived and the status. */
  async ended_(executionId: string, timeoutMs = 60_000): Promise<{ at: number; status: string }> {
    const seen = this.ended.get(executionId);
    if (seen) return seen;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(executionId);
        reject(new Error(`run ${executionId} did not end within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(executionId, () => {
        clearTimeout(timer);
        this.waiters.delete(executionId);
        resolve();
      });
    });
    return this.ended.get(executionId)!;
  }

  /** Starts a run and waits for its end: times from just before the request (performance.now ms). */
  async runOnce(definition: unknown, extra: Record<string, unknown> = {}): Promise<{ id: string; total: number; reply: number; running?: number; status: string }> {
    const t0 = performance.now();
    const r = await this.start(definition, extra);
    const tReply = performance.now();
    const end = await this.ended_(r.executionId);
    const running = this.firstRunning.get(r.executionId);
    this.forget(r.executionId);
    return { id: r.executionId, total: end.at - t0, reply: tReply - t0, running: running === undefined ? undefined : running - t0, status: end.status };
  }

  forget(id: string): void {
    this.ended.delete(id);
    this.firstRunning.delete(id);
    for (const key of this.stepCompleted.keys()) if (key.startsWith(`${id}/`)) this.stepCompleted.delete(key);
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

export function redisOptions() {
  const u = new URL(testUrls.redis);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}

/** Removes every key under `{<queuePrefix>}:` (BullMQ's and the run store's). */
async function purgeRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisOptions());
  try {
    const stream = redis.scanStream({ match: `{${prefix}}:*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** A fresh isolated world (stream, database, queue prefix) removed by `cleanup`. */
export async function world(label: string, infra: Infra, cleanup: Cleanup): Promise<TestNames> {
  const names = phaseNames(label, infra, cleanup);
  cleanup.add(`purge redis {${names.queuePrefix}}`, () => purgeRedisPrefix(names.queuePrefix));
  await createTestEventsStream(infra.nc, names);
  return names;
}

/** An executor process on `names` with `env` on top of the isolated settings; stopped by `cleanup`. */
export async function startExecutor(names: TestNames, env: Record<string, string>, cleanup: Cleanup): Promise<ServiceProcess> {
  const svc = await startService('executor', { ...isolatedEnv(names), LOG_LEVEL: 'warn', ...env });
  cleanup.add(`stop executor pid ${svc.proc.pid}`, () => svc.stop());
  return svc;
}

export const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
export const median = (xs: number[]) => quantile(sortNum(xs), 0.5);
export const r1 = (n: number) => Math.round(n * 10) / 10;
