import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import Redis, { type ChainableCommander } from 'ioredis';
import { APP_CONFIG } from '@toolpath/platform';
import type { WorkflowDefinition } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import {
  RUN_SCRIPTS,
  beginAttempt,
  claimEnded,
  createRun,
  endAttempt,
  endRunSettling,
  moveStep,
  setMeta,
  type BeginResult,
  type CreateResult,
  type EndAttemptResult,
  type SettledStep,
  type TransitionResult,
} from './run-scripts';
import { pendingStep, type RunMeta, type RunSnapshot, type StepState } from './run-state';

// Layout of a run's hash `{<queuePrefix>}:run:<id>`:
//   meta    RunMeta JSON, always starting with "status" then "endedAt" (see metaJson), so the
//           script that completes a run rewrites those two without decoding the run's input
//   def     the validated definition (JSON)
//   status  the run's status (a copy of meta.status the scripts read without decoding JSON)
//   open    steps not yet in a terminal status (kept by the scripts; 0 means the run can end)
//   seq     next tool-call sequence number
//   step:<id>  StepState JSON, always with "status" as its first key (see stepJson), so the
//              scripts read a step's status without decoding a possibly large result.
// Every state change is one script (run-scripts.ts, apps/executor/lua/): a step or the run moves
// only from an allowed status, so two executors never both move the same step or end the same run.

/** The answer of `createIn`, out of the transaction's results. */
export const createdOf = (answer: unknown): CreateResult => createRun.reply(answer);

/** The answer of `setStepIn`, out of the transaction's results. */
export const transitionOf = (answer: unknown): TransitionResult => moveStep.reply(answer);

/** A run's meta as stored: "status" and "endedAt" first, which end-attempt.lua relies on. */
export function metaJson(meta: RunMeta): string {
  const { status, endedAt, ...rest } = meta;
  return JSON.stringify({ status, endedAt: endedAt ?? null, ...rest });
}

/** A step state as stored: "status" first, which the scripts rely on. */
export function stepJson(state: StepState): string {
  const { status, ...rest } = state;
  return JSON.stringify({ status, ...rest });
}

/**
 * The executor's live state in Redis: the only code that knows the key layout. Keys (all under
 * BullMQ's hash tag, so one Cluster slot): `run:<id>` (the hash above), `idem:<tenant>:<key>`,
 * `slots:<tenant>` (running-step leases), `live:<tenant>` (runs not yet in Mongo, for listing),
 * `deadlines` (run deadlines), `outbox` (ended runs awaiting their final write) and
 * `executor:<id>` (each live executor's heartbeat), `lease:<name>` (a job one executor does) and
 * `claim:<name>:<id>` (an item of such a job one executor took).
 */
@Injectable()
export class RunStore implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('RunStore');
  private readonly redis: Redis;
  /** This process among the executors: the owner recorded on the steps it runs. */
  readonly executorId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly base: string;
  /**
   * How long an executor counts as alive after its last heartbeat (1.5 x the job lock unless
   * configured): longer than the lock, so a lapse of the lock alone (a slow event loop) never lets
   * another executor take over a running step; an executor that died is taken over after at most
   * this long.
   */
  private readonly heartbeatTtlMs: number;
  private heartbeat?: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) config: ExecutorConfig) {
    this.base = `{${config.TOOLPATH_QUEUE_PREFIX}}`;
    this.heartbeatTtlMs = config.EXECUTOR_HEARTBEAT_TTL_MS ?? Math.ceil(1.5 * config.EXECUTOR_LOCK_DURATION_MS);
    // Commands wait through a Redis restart (AOF keeps the state) instead of failing the step.
    // No auto-pipelining: it holds every command until the event loop's next check phase, which
    // in a busy executor cost a step in a chain about 0.5 ms (p50 2.6 -> 2.1 ms without it, runs
    // alternating between two executors), and its batching did not raise throughput.
    this.redis = new Redis(config.REDIS_URL, {
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    this.redis.on('error', () => undefined);
    for (const script of RUN_SCRIPTS) script.defineOn(this.redis);
  }

  async onModuleInit(): Promise<void> {
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch((err: Error) => this.log.warn(`heartbeat: ${err.message}`)), Math.max(100, Math.floor(this.heartbeatTtlMs / 4)));
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    await this.redis.set(this.heartbeatKey(this.executorId), '1', 'PX', this.heartbeatTtlMs);
  }

  private heartbeatKey(executorId: string): string {
    return `${this.base}:executor:${executorId}`;
  }

  private runKey(id: string): string {
    return `${this.base}:run:${id}`;
  }
  private slotsKey(tenantId: string): string {
    return `${this.base}:slots:${tenantId}`;
  }
  private liveKey(tenantId: string): string {
    return `${this.base}:live:${tenantId}`;
  }
  private get outboxKey(): string {
    return `${this.base}:outbox`;
  }
  private get deadlinesKey(): string {
    return `${this.base}:deadlines`;
  }

  /**
   * Writes a new run with its initial step states, unless the idempotency key is already held:
   * then nothing is written and the id holding it is returned.
   */
  async create(run: RunSnapshot, open: number, idempotency?: { key: string; ttlS: number }): Promise<CreateResult> {
    return createRun.call(this.redis, this.createInput(run, open, idempotency));
  }

  /**
   * Queues the creation of a run (no idempotency key) into a transaction of another client on the
   * same Redis: the step queue's, so that the run and its first jobs are written in one round
   * trip, and together or not at all. Read its answer with `createdOf`.
   */
  createIn(tx: ChainableCommander, run: RunSnapshot, open: number): void {
    createRun.queue(tx, this.createInput(run, open));
  }

  private createInput(run: RunSnapshot, open: number, idempotency?: { key: string; ttlS: number }) {
    const { meta } = run;
    const fields: string[] = ['meta', metaJson(meta), 'def', JSON.stringify(run.definition), 'status', meta.status, 'open', String(open)];
    for (const [stepId, st] of Object.entries(run.steps)) if (st.status !== 'PENDING') fields.push(`step:${stepId}`, stepJson(st));
    return {
      run: this.runKey(meta.id),
      deadlines: this.deadlinesKey,
      live: this.liveKey(meta.tenantId),
      idempotency: idempotency ? `${this.base}:idem:${meta.tenantId}:${idempotency.key}` : `${this.base}:idem:-`,
      id: meta.id,
      keyTtlS: idempotency ? idempotency.ttlS : 0,
      deadlineMs: meta.deadline,
      createdMs: Date.parse(meta.createdAt),
      fields,
    };
  }

  async load(id: string): Promise<RunSnapshot | null> {
    const hash = await this.redis.hgetall(this.runKey(id));
    if (!hash.meta || !hash.def) return null;
    return snapshotOf(hash, JSON.parse(hash.def) as WorkflowDefinition);
  }

  /** The run's state without its definition (which the caller already has). */
  async loadWith(id: string, definition: WorkflowDefinition): Promise<RunSnapshot | null> {
    const fields = ['meta', ...definition.steps.map((s) => `step:${s.id}`)];
    const values = await this.redis.hmget(this.runKey(id), ...fields);
    if (!values[0]) return null;
    const hash: Record<string, string> = {};
    fields.forEach((f, i) => {
      if (values[i] !== null) hash[f] = values[i]!;
    });
    return snapshotOf(hash, definition);
  }

  /** The run's definition and its meta, in one round trip (a step of a run new to this executor). */
  async loadDefinitionAndMeta(id: string): Promise<{ definition: WorkflowDefinition; meta: RunMeta } | null> {
    const [def, meta] = await this.redis.hmget(this.runKey(id), 'def', 'meta');
    return def && meta ? { definition: JSON.parse(def) as WorkflowDefinition, meta: JSON.parse(meta) as RunMeta } : null;
  }

  async loadMeta(id: string): Promise<RunMeta | null> {
    const raw = await this.redis.hget(this.runKey(id), 'meta');
    return raw ? (JSON.parse(raw) as RunMeta) : null;
  }

  async loadMetas(ids: readonly string[]): Promise<Array<RunMeta | null>> {
    if (ids.length === 0) return [];
    const raws = await Promise.all(ids.map((id) => this.redis.hget(this.runKey(id), 'meta')));
    return raws.map((raw) => (raw ? (JSON.parse(raw) as RunMeta) : null));
  }

  async setStep(id: string, stepId: string, from: readonly string[], state: StepState): Promise<TransitionResult> {
    return moveStep.call(this.redis, this.moveInput(id, stepId, from, state));
  }

  /** `setStep` queued into another client's transaction (see `createIn`); read its answer with `transitionOf`. */
  setStepIn(tx: ChainableCommander, id: string, stepId: string, from: readonly string[], state: StepState): void {
    moveStep.queue(tx, this.moveInput(id, stepId, from, state));
  }

  private moveInput(id: string, stepId: string, from: readonly string[], state: StepState) {
    return { run: this.runKey(id), field: `step:${stepId}`, allowed: from.join(','), json: stepJson(state), status: state.status };
  }

  /** Changes the run's meta (status included) if its status is one of `from`. */
  async setMeta(id: string, from: readonly string[], meta: RunMeta): Promise<boolean> {
    return setMeta.call(this.redis, this.metaInput(id, from, meta, false));
  }

  /** Moves the run to its terminal status and enters it in the outbox, atomically. */
  async endRun(id: string, from: readonly string[], meta: RunMeta): Promise<boolean> {
    return setMeta.call(this.redis, this.metaInput(id, from, meta, true));
  }

  private metaInput(id: string, from: readonly string[], meta: RunMeta, ended: boolean) {
    return {
      run: this.runKey(id),
      outbox: this.outboxKey,
      deadlines: this.deadlinesKey,
      allowed: from.join(','),
      meta: metaJson(meta),
      status: meta.status,
      nowMs: Date.now(),
      ended: ended ? '1' : '0',
      id,
    };
  }

  /**
   * Ends the run and cancels its live steps atomically (end-run-settling.lua). `run` is the state
   * the caller read (for the steps' durations). Returns the steps cancelled, or null if the run
   * was no longer in one of `from`. The steps' `endedAt` is the run's (`meta.endedAt`).
   */
  async endRunSettling(run: RunSnapshot, from: readonly string[], meta: RunMeta, reason: string): Promise<SettledStep[] | null> {
    // The steps end at the run's end, the same clock reading, so no step ends after its run.
    const parsed = meta.endedAt ? Date.parse(meta.endedAt) : Number.NaN;
    const now = Number.isFinite(parsed) ? parsed : Date.now();
    const steps: Array<string | number> = [];
    for (const s of run.definition.steps) {
      const startedAt = run.steps[s.id]?.startedAt;
      steps.push(s.id, startedAt ? Math.max(0, now - Date.parse(startedAt)) : '');
    }
    return endRunSettling.call(this.redis, {
      run: this.runKey(meta.id),
      outbox: this.outboxKey,
      deadlines: this.deadlinesKey,
      allowed: from.join(','),
      meta: metaJson(meta),
      status: meta.status,
      nowMs: now,
      id: meta.id,
      nowIso: new Date(now).toISOString(),
      reason,
      steps,
    });
  }

  async beginStep(
    id: string,
    stepId: string,
    slot: { tenantId: string; member: string; leaseMs: number; limit: number },
    wantMeta: boolean,
    reads: readonly string[],
  ): Promise<BeginResult> {
    const now = Date.now();
    const r = await beginAttempt.call(this.redis, {
      run: this.runKey(id),
      slots: this.slotsKey(slot.tenantId),
      field: `step:${stepId}`,
      nowMs: now,
      nowIso: new Date(now).toISOString(),
      leaseUntilMs: now + slot.leaseMs,
      limit: slot.limit,
      slot: slot.member,
      wantMeta: wantMeta ? '1' : '0',
      executorId: this.executorId,
      heartbeatPrefix: this.heartbeatKey(''),
      reads,
    });
    if (r.kind !== 'ok') return r;
    const steps: Record<string, StepState> = {};
    reads.forEach((s, i) => {
      const state = r.reads[i];
      if (state) steps[s] = state;
    });
    const out: BeginResult = { kind: 'ok', state: r.state, steps, attemptKind: r.attemptKind };
    if (r.meta) out.meta = r.meta;
    return out;
  }

  /**
   * Ends an attempt (see end-attempt.lua). `completesAt`: the run's end if this attempt completes
   * it; the run ends then when no step is left open and none failed.
   */
  async endAttempt(
    id: string,
    stepId: string,
    tenantId: string,
    member: string,
    state: StepState,
    returnRun: 'never' | 'when-done' | 'always',
    completesAt?: string,
  ): Promise<EndAttemptResult> {
    return endAttempt.call(this.redis, {
      run: this.runKey(id),
      slots: this.slotsKey(tenantId),
      outbox: this.outboxKey,
      deadlines: this.deadlinesKey,
      field: `step:${stepId}`,
      json: stepJson(state),
      status: state.status,
      slot: member,
      returnRun: returnRun === 'always' ? '2' : returnRun === 'when-done' ? '1' : '0',
      completesAt: completesAt ?? '',
      nowMs: Date.now(),
      id,
    });
  }

  /** Frees a tenant slot taken by `beginStep` when the attempt could not end normally. */
  async releaseTenantSlot(tenantId: string, member: string): Promise<void> {
    await this.redis.zrem(this.slotsKey(tenantId), member);
  }

  /** Order of tool calls inside a run (the events' `seq`). */
  async nextSeq(id: string): Promise<number> {
    return (await this.redis.hincrby(this.runKey(id), 'seq', 1)) - 1;
  }

  /** Ended runs due for finalizing, leased to the caller for `leaseMs`. */
  async claimEnded(limit: number, leaseMs: number): Promise<string[]> {
    const now = Date.now();
    return claimEnded.call(this.redis, { outbox: this.outboxKey, nowMs: now, leaseUntilMs: now + leaseMs, limit });
  }

  /** Extends the lease of runs being finalized (only those still in the outbox). */
  async renewClaims(ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    const until = Date.now() + leaseMs;
    await this.redis.zadd(this.outboxKey, 'XX', ...ids.flatMap((id) => [until, id]));
  }

  /**
   * A run's final write has landed: its live state expires after `ttlS` (reads of recent runs stay
   * fast), and it leaves the outbox, the deadline list and the tenant's live list.
   */
  async retire(id: string, tenantId: string | undefined, ttlS: number): Promise<void> {
    // Plain commands, not a transaction: each is idempotent, and they go out back to back.
    await Promise.all([
      this.redis.expire(this.runKey(id), ttlS),
      this.redis.zrem(this.outboxKey, id),
      this.redis.zrem(this.deadlinesKey, id),
      tenantId !== undefined ? this.redis.zrem(this.liveKey(tenantId), id) : 0,
    ]);
  }

  /**
   * Counts a failed attempt to finalize a run, in its live state (so whichever executor retries
   * sees it; it expires with the run); returns the count so far.
   */
  async countFinalizeFailure(id: string): Promise<number> {
    return this.redis.hincrby(this.runKey(id), 'finalizeFailures', 1);
  }

  /** Runs whose deadline has passed (live or not yet retired). */
  async overdue(limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.deadlinesKey, '-inf', Date.now(), 'LIMIT', 0, limit);
  }

  async dropDeadline(id: string): Promise<void> {
    await this.redis.zrem(this.deadlinesKey, id);
  }

  /** Ids of a tenant's runs not yet retired (newest first, at most `limit`), for listing. */
  async liveIds(tenantId: string, limit: number): Promise<string[]> {
    return this.redis.zrevrange(this.liveKey(tenantId), 0, limit - 1);
  }

  /**
   * Takes or renews the lease of a job one executor at a time does (`lease:<name>`, e.g. the
   * run-list backfill): true while `holder` has it. It lapses after `ttlMs` unless renewed.
   */
  async holdLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const held = await this.redis.eval(HOLD_LEASE, 1, this.leaseKey(name), holder, ttlMs);
    return held === 1;
  }

  /** Gives a lease up, if `holder` still has it. */
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE_LEASE, 1, this.leaseKey(name), holder);
  }

  /**
   * Claims each id for `holder` unless another holder has it (`claim:<name>:<id>`, lapsing after
   * `ttlMs`): returns the ids claimed now, so two holders never both act on one id.
   */
  async claimOnce(name: string, ids: string[], holder: string, ttlMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => `${this.base}:claim:${name}:${id}`);
    const mine = (await this.redis.eval(CLAIM_ONCE, keys.length, ...keys, holder, ttlMs)) as number[];
    return ids.filter((_, i) => mine[i] === 1);
  }

  private leaseKey(name: string): string {
    return `${this.base}:lease:${name}`;
  }

  async onApplicationShutdown(): Promise<void> {
    // The key is left to expire rather than deleted: shutdown hooks run in no fixed order, and
    // an attempt still draining here must not be taken over meanwhile.
    clearInterval(this.heartbeat);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

const HOLD_LEASE = `
local h = redis.call('GET', KEYS[1])
if h == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if h == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

// Per key: claimed now, or already this holder's (a retry), is 1; another holder's is 0.
const CLAIM_ONCE = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'PX', ARGV[2], 'NX') or redis.call('GET', key) == ARGV[1] then out[i] = 1 else out[i] = 0 end
end
return out`;

const RELEASE_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** A snapshot from hash fields; steps without a field are PENDING. */
export function snapshotOf(hash: Record<string, string>, definition: WorkflowDefinition): RunSnapshot {
  const steps: Record<string, StepState> = {};
  for (const step of definition.steps) {
    const raw = hash[`step:${step.id}`];
    steps[step.id] = raw ? (JSON.parse(raw) as StepState) : pendingStep();
  }
  return { meta: JSON.parse(hash.meta) as RunMeta, definition, steps };
}
