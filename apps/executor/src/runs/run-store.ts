import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG } from '@toolpath/platform';
import type { WorkflowDefinition } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import { pendingStep, type RunMeta, type RunSnapshot, type StepState } from './run-state';

/**
 * Sets a JSON field of a hash only if the `status` inside its current value (PENDING when the
 * field is absent) is one of the allowed ones. Every state change goes through it, so two
 * executors can never both move the same step or finish the same run.
 * KEYS[1] hash; ARGV[1] field; ARGV[2] allowed statuses, comma-separated; ARGV[3] new JSON.
 * Returns 1 when set, else the current status.
 */
const TRANSITION_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'GONE' end
local current = redis.call('HGET', KEYS[1], ARGV[1])
local status = 'PENDING'
if current then status = cjson.decode(current)['status'] end
for allowed in string.gmatch(ARGV[2], '[^,]+') do
  if allowed == status then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    return 1
  end
end
return status
`;

/**
 * Takes a slot of a tenant's running-step budget. Slots are leases (sorted-set scores are expiry
 * times), so a slot held by an executor that died frees itself.
 * KEYS[1] zset; ARGV[1] member; ARGV[2] now; ARGV[3] lease expiry; ARGV[4] limit.
 */
const ACQUIRE_SLOT_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(ARGV[3]) - tonumber(ARGV[2])))
  return 1
end
return 0
`;

export type TransitionResult = { ok: true } | { ok: false; current: string };

/**
 * The executor's live state in Redis: the only code that knows the key layout.
 * `{<queuePrefix>}:run:<id>` (hash: meta, def, step:<id>), `{<queuePrefix>}:idem:<tenant>:<key>`,
 * `{<queuePrefix>}:slots:<tenant>`. The hash tag keeps them in BullMQ's Cluster slot.
 */
@Injectable()
export class RunStore implements OnApplicationShutdown {
  readonly redis: Redis;
  private readonly base: string;

  constructor(@Inject(APP_CONFIG) config: ExecutorConfig) {
    this.base = `{${config.TOOLPATH_QUEUE_PREFIX}}`;
    // Commands wait through a Redis restart (AOF keeps the state) instead of failing the step.
    // Auto-pipelining sends the commands of concurrent steps issued in one tick as one write.
    this.redis = new Redis(config.REDIS_URL, {
      enableAutoPipelining: true,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('tpTransition', { numberOfKeys: 1, lua: TRANSITION_LUA });
    this.redis.defineCommand('tpAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT_LUA });
  }

  private runKey(id: string): string {
    return `${this.base}:run:${id}`;
  }

  async create(meta: RunMeta, definition: WorkflowDefinition): Promise<void> {
    await this.redis.hset(this.runKey(meta.id), 'meta', JSON.stringify(meta), 'def', JSON.stringify(definition));
  }

  /** Claims an idempotency key for `executionId`; returns the id that already holds it, if any. */
  async claimIdempotencyKey(tenantId: string, key: string, executionId: string, ttlS: number): Promise<string | null> {
    const k = `${this.base}:idem:${tenantId}:${key}`;
    const set = await this.redis.set(k, executionId, 'EX', ttlS, 'NX');
    return set === 'OK' ? null : await this.redis.get(k);
  }

  async releaseIdempotencyKey(tenantId: string, key: string): Promise<void> {
    await this.redis.del(`${this.base}:idem:${tenantId}:${key}`);
  }

  async load(id: string): Promise<RunSnapshot | null> {
    const hash = await this.redis.hgetall(this.runKey(id));
    if (!hash.meta || !hash.def) return null;
    const definition = JSON.parse(hash.def) as WorkflowDefinition;
    const steps: Record<string, StepState> = {};
    for (const step of definition.steps) {
      const raw = hash[`step:${step.id}`];
      steps[step.id] = raw ? (JSON.parse(raw) as StepState) : pendingStep();
    }
    return { meta: JSON.parse(hash.meta) as RunMeta, definition, steps };
  }

  async loadMeta(id: string): Promise<RunMeta | null> {
    const raw = await this.redis.hget(this.runKey(id), 'meta');
    return raw ? (JSON.parse(raw) as RunMeta) : null;
  }

  async setStep(id: string, stepId: string, from: readonly string[], state: StepState): Promise<TransitionResult> {
    return this.transition(id, `step:${stepId}`, from, state);
  }

  async setMeta(id: string, from: readonly string[], meta: RunMeta): Promise<TransitionResult> {
    return this.transition(id, 'meta', from, meta);
  }

  private async transition(id: string, field: string, from: readonly string[], value: unknown): Promise<TransitionResult> {
    const redis = this.redis as Redis & { tpTransition(key: string, field: string, allowed: string, json: string): Promise<number | string> };
    const answer = await redis.tpTransition(this.runKey(id), field, from.join(','), JSON.stringify(value));
    return answer === 1 ? { ok: true } : { ok: false, current: String(answer) };
  }

  /** Order of tool calls inside a run (the events' `seq`). */
  async nextSeq(id: string): Promise<number> {
    return (await this.redis.hincrby(this.runKey(id), 'seq', 1)) - 1;
  }

  /** Keeps a finished run's live state for a while (reads of recent runs stay fast), then lets it go. */
  async expire(id: string, seconds: number): Promise<void> {
    await this.redis.expire(this.runKey(id), seconds);
  }

  async acquireTenantSlot(tenantId: string, member: string, leaseMs: number, limit: number): Promise<boolean> {
    const redis = this.redis as Redis & { tpAcquireSlot(key: string, member: string, now: number, until: number, limit: number): Promise<number> };
    const now = Date.now();
    return (await redis.tpAcquireSlot(`${this.base}:slots:${tenantId}`, member, now, now + leaseMs, limit)) === 1;
  }

  async releaseTenantSlot(tenantId: string, member: string): Promise<void> {
    await this.redis.zrem(`${this.base}:slots:${tenantId}`, member);
  }

  /** Removes every key of this prefix that the store wrote (tests). */
  async purge(): Promise<void> {
    const stream = this.redis.scanStream({ match: `${this.base}:*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      const own = keys.filter((k) => /:(run|idem|slots):/.test(k));
      if (own.length > 0) await this.redis.del(...own);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
