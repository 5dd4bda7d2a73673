import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import Redis, { type ChainableCommander } from 'ioredis';
import type { AttemptKind } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import type { WorkflowDefinition } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
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
// Every state change is one script: a step or the run moves only from an allowed status, so two
// executors never both move the same step or end the same run.

const STEP_STATUS_OF = `
local function stepStatus(json)
  if not json then return 'PENDING' end
  return string.match(json, '^{"status":"(%u+)"') or 'PENDING'
end
local function isLive(s) return s == 'PENDING' or s == 'QUEUED' or s == 'RUNNING' end
`;

/**
 * Creates a run: claims the idempotency key (if any) and writes the hash, the deadline and the
 * tenant's live-run entry, all or nothing, so a key never points to a run that was not written.
 * KEYS: hash, deadlines, live, idempotency key. ARGV: id, key TTL s (0: no key), deadline ms,
 * created ms, then field/value pairs. Returns {1} or {0, id holding the key}.
 */
const CREATE_LUA = `
if ARGV[2] ~= '0' then
  if not redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[2], 'NX') then
    return {0, redis.call('GET', KEYS[4])}
  end
end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return {1}
`;

/**
 * Moves a step if its status is one of the allowed ones; keeps `open`.
 * KEYS: hash. ARGV: field, allowed (comma-separated), JSON, new status.
 * Returns {1, open} when moved, else {0, current status} ('GONE' without a hash).
 */
const STEP_TRANSITION_LUA = `${STEP_STATUS_OF}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'GONE'} end
local current = stepStatus(redis.call('HGET', KEYS[1], ARGV[1]))
for allowed in string.gmatch(ARGV[2], '[^,]+') do
  if allowed == current then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    local open = tonumber(redis.call('HGET', KEYS[1], 'open') or '0')
    if isLive(current) and not isLive(ARGV[4]) then open = redis.call('HINCRBY', KEYS[1], 'open', -1) end
    return {1, open}
  end
end
return {0, current}
`;

/**
 * Sets the run's meta if its status is one of the allowed ones; with ARGV[5] = '1' also enters
 * the run in the outbox (its end is then handled by some executor's RunFinalizer, even if this
 * one dies now) and takes it off the deadline list.
 * KEYS: hash, outbox, deadlines. ARGV: allowed, meta JSON, new status, now ms, end ('1'|'0'), id.
 * Returns 1, or the current status ('GONE' without a hash).
 */
const SET_META_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'GONE' end
local current = redis.call('HGET', KEYS[1], 'status') or 'PENDING'
for allowed in string.gmatch(ARGV[1], '[^,]+') do
  if allowed == current then
    redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'status', ARGV[3])
    if ARGV[5] == '1' then
      redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
      redis.call('ZREM', KEYS[3], ARGV[6])
    end
    return 1
  end
end
return current
`;

/**
 * Ends a live run and cancels its live steps in one atomic step, so nobody ever sees an ended run
 * with a step still RUNNING (cancel, run timeout). Otherwise as SET_META_LUA with end = '1'.
 * A live step's state holds no user data, so it is decoded and re-encoded here.
 * KEYS: hash, outbox, deadlines. ARGV: allowed, meta JSON, new status, now ms, id, now ISO,
 * reason, then pairs (step id, duration ms as the caller computed it from the start it read, or '').
 * Returns {1, (step id, previous status, new JSON)...} or {0, current status}.
 */
const END_RUN_SETTLING_LUA = `${STEP_STATUS_OF}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'GONE'} end
local current = redis.call('HGET', KEYS[1], 'status') or 'PENDING'
local allowed = false
for a in string.gmatch(ARGV[1], '[^,]+') do
  if a == current then allowed = true end
end
if not allowed then return {0, current} end
redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'status', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
redis.call('ZREM', KEYS[3], ARGV[5])
local out = {1}
for i = 8, #ARGV, 2 do
  local field = 'step:' .. ARGV[i]
  local raw = redis.call('HGET', KEYS[1], field)
  local s = stepStatus(raw)
  if isLive(s) then
    local st
    if raw then st = cjson.decode(raw) else st = {attempts = 0, startedAt = cjson.null} end
    st['status'] = nil
    st['owner'] = nil
    st['endedAt'] = ARGV[6]
    st['reason'] = ARGV[7]
    if ARGV[i + 1] ~= '' then
      st['durationMs'] = tonumber(ARGV[i + 1])
    elseif st['startedAt'] ~= nil and st['startedAt'] ~= cjson.null then
      st['durationMs'] = 0
    else
      st['durationMs'] = cjson.null
    end
    local json = '{"status":"CANCELLED",' .. string.sub(cjson.encode(st), 2)
    redis.call('HSET', KEYS[1], field, json)
    out[#out + 1] = ARGV[i]
    out[#out + 1] = s
    out[#out + 1] = json
  end
end
redis.call('HSET', KEYS[1], 'open', 0)
return out
`;

/**
 * Starts an attempt of a step in one round trip: the run must be live and the step QUEUED or
 * RUNNING (a redelivered attempt), the tenant must have a free slot (slots are leases: sorted-set
 * scores are expiry times, so a slot held by a dead executor frees itself); then the step becomes
 * RUNNING (attempts + 1, first start kept, last error dropped) and records which executor runs it.
 * A step RUNNING on another executor that is still alive (its heartbeat key exists) is HELD: its
 * job came back because that executor's job lock lapsed, not because the attempt stopped, and
 * running it here too would call the tool twice.
 * KEYS: hash, slots. ARGV: field, now ms, now ISO, lease expiry ms, limit, slot member,
 * '1' to return the meta, this executor's id, heartbeat key prefix, then fields to return (other
 * steps' states).
 * Returns {'OK', step JSON, meta|false, attempt kind, fields...}, {'GONE'}, {'ENDED', status},
 * {'STATE', step status}, {'BUSY'} or {'HELD', ms the holder's heartbeat has left}.
 */
const BEGIN_STEP_LUA = `${STEP_STATUS_OF}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'GONE'} end
local run = redis.call('HGET', KEYS[1], 'status')
if run ~= 'RUNNING' and run ~= 'PENDING' then return {'ENDED', run or 'UNKNOWN'} end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local status = stepStatus(raw)
if status ~= 'QUEUED' and status ~= 'RUNNING' then return {'STATE', status} end
-- A QUEUED or RUNNING state holds no user data (no result), so decoding it is cheap and exact.
local st = cjson.decode(raw)
local owner = st['owner']
if status == 'RUNNING' and type(owner) == 'string' and owner ~= ARGV[8] then
  local left = redis.call('PTTL', ARGV[9] .. owner)
  if left > 0 then return {'HELD', left} end
end
-- QUEUED: the step's first attempt. RUNNING without an owner: an attempt failed and the step
-- waits for its retry. RUNNING with an owner: that attempt never ended (its executor died).
local kind = 'first'
if status == 'RUNNING' then
  if type(owner) == 'string' then kind = 'takeover' else kind = 'retry' end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if not redis.call('ZSCORE', KEYS[2], ARGV[6]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {'BUSY'} end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(ARGV[4]) - tonumber(ARGV[2])))
st['status'] = nil
st['error'] = nil
st['owner'] = ARGV[8]
st['attempts'] = (tonumber(st['attempts']) or 0) + 1
if st['startedAt'] == nil or st['startedAt'] == cjson.null then st['startedAt'] = ARGV[3] end
local json = '{"status":"RUNNING",' .. string.sub(cjson.encode(st), 2)
redis.call('HSET', KEYS[1], ARGV[1], json)
local out = {'OK', json, false, kind}
if ARGV[7] == '1' then out[3] = redis.call('HGET', KEYS[1], 'meta') end
for i = 10, #ARGV do out[#out + 1] = redis.call('HGET', KEYS[1], ARGV[i]) or false end
return out
`;

/**
 * Ends an attempt: frees the tenant slot, takes the tool call's sequence number, and moves the
 * step from RUNNING to its new state. When that leaves no step open and every step COMPLETED or
 * SKIPPED (so the run cannot have failed), it also completes the run at the time given (as
 * SET_META_LUA does: status, outbox, deadline), saving the scheduler a round trip; otherwise it
 * returns the run's fields (what the scheduler reads next) when asked: ARGV[5] '1' when no step
 * is left open, '2' always, '0' never. The meta's leading status and endedAt are rewritten as
 * text: the rest (the run's input among it) is neither sent by the caller nor decoded here. A
 * meta not in that shape is left to the scheduler.
 * KEYS: hash, slots, outbox, deadlines. ARGV: field, JSON, new status, slot member, when to return
 * the run, the run's end as ISO time if this attempt may complete it ('' if not), now ms, run id.
 * Returns {1, seq, open, ended (1|0), fields...} or {0, seq, current status}.
 */
const END_ATTEMPT_LUA = `${STEP_STATUS_OF}
redis.call('ZREM', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 'GONE'} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1) - 1
local current = stepStatus(redis.call('HGET', KEYS[1], ARGV[1]))
if current ~= 'RUNNING' then return {0, seq, current} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local open = tonumber(redis.call('HGET', KEYS[1], 'open') or '0')
if not isLive(ARGV[3]) then open = redis.call('HINCRBY', KEYS[1], 'open', -1) end
local out = {1, seq, open, 0}
if open > 0 and ARGV[5] ~= '2' then return out end
local all = redis.call('HGETALL', KEYS[1])
if open <= 0 and ARGV[6] ~= '' then
  local run = redis.call('HGET', KEYS[1], 'status')
  local clean = run == 'RUNNING' or run == 'PENDING'
  for i = 1, #all, 2 do
    if clean and string.sub(all[i], 1, 5) == 'step:' then
      local s = stepStatus(all[i + 1])
      if s ~= 'COMPLETED' and s ~= 'SKIPPED' then clean = false end
    end
  end
  local meta = redis.call('HGET', KEYS[1], 'meta') or ''
  local _, head = string.find(meta, '^{"status":"%u+","endedAt":null')
  if clean and head then
    redis.call('HSET', KEYS[1], 'meta', '{"status":"COMPLETED","endedAt":"' .. ARGV[6] .. '"' .. string.sub(meta, head + 1), 'status', 'COMPLETED')
    redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8])
    redis.call('ZREM', KEYS[4], ARGV[8])
    out[4] = 1
    return out
  end
end
if ARGV[5] ~= '0' then
  for i = 1, #all, 2 do
    if all[i] ~= 'def' then
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
end
return out
`;

/**
 * Takes up to ARGV[3] due runs from the outbox and leases them until ARGV[2] (a finalizer that
 * dies lets its lease run out, and another executor takes the run).
 */
const CLAIM_LUA = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
`;

/** The answer of the create script (as a reply or out of a transaction's results). */
export function createdOf(answer: unknown): { created: true } | { created: false; existing: string } {
  const a = answer as [number, string?];
  return a[0] === 1 ? { created: true } : { created: false, existing: String(a[1]) };
}

/** The answer of the step transition script. */
export function transitionOf(answer: unknown): TransitionResult {
  const [ok, v] = answer as [number, number | string];
  return ok === 1 ? { ok: true, open: Number(v) } : { ok: false, current: String(v) };
}

export type TransitionResult = { ok: true; open: number } | { ok: false; current: string };

export type BeginResult =
  | { kind: 'ok'; state: StepState; meta?: RunMeta; steps: Record<string, StepState>; attemptKind: AttemptKind }
  | { kind: 'gone' }
  | { kind: 'ended'; status: string }
  | { kind: 'state'; status: string }
  | { kind: 'busy' }
  | { kind: 'held'; forMs: number };

export type EndAttemptResult =
  | { moved: true; seq: number; open: number; runEnded: boolean; fields?: Record<string, string> }
  | { moved: false; seq: number; current: string };

/** A run's meta as stored: "status" and "endedAt" first, which END_ATTEMPT_LUA relies on. */
export function metaJson(meta: RunMeta): string {
  const { status, endedAt, ...rest } = meta;
  return JSON.stringify({ status, endedAt: endedAt ?? null, ...rest });
}

/** A step state as stored: "status" first, which the scripts rely on. */
export function stepJson(state: StepState): string {
  const { status, ...rest } = state;
  return JSON.stringify({ status, ...rest });
}

const LIVE_STEP = new Set(['PENDING', 'QUEUED', 'RUNNING']);

type Scripts = {
  tpCreate(...args: Array<string | number>): Promise<[number, string?]>;
  tpStep(key: string, field: string, allowed: string, json: string, status: string): Promise<[number, number | string]>;
  tpSetMeta(key: string, outbox: string, deadlines: string, allowed: string, json: string, status: string, now: number, end: string, id: string): Promise<number | string>;
  tpBegin(...args: Array<string | number>): Promise<Array<string | null>>;
  tpEndRunSettling(...args: Array<string | number>): Promise<Array<string | number>>;
  tpEndAttempt(...args: Array<string | number>): Promise<Array<string | number>>;
  tpClaim(outbox: string, now: number, until: number, limit: number): Promise<string[]>;
};

/**
 * The executor's live state in Redis: the only code that knows the key layout. Keys (all under
 * BullMQ's hash tag, so one Cluster slot): `run:<id>` (the hash above), `idem:<tenant>:<key>`,
 * `slots:<tenant>` (running-step leases), `live:<tenant>` (runs not yet in Mongo, for listing),
 * `deadlines` (run deadlines), `outbox` (ended runs awaiting their final write) and
 * `executor:<id>` (each live executor's heartbeat).
 */
@Injectable()
export class RunStore implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('RunStore');
  readonly redis: Redis;
  /** This process among the executors: the owner recorded on the steps it runs. */
  readonly executorId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly base: string;
  private readonly scripts: Scripts;
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
    this.redis.defineCommand('tpCreate', { numberOfKeys: 4, lua: CREATE_LUA });
    this.redis.defineCommand('tpStep', { numberOfKeys: 1, lua: STEP_TRANSITION_LUA });
    this.redis.defineCommand('tpSetMeta', { numberOfKeys: 3, lua: SET_META_LUA });
    this.redis.defineCommand('tpBegin', { numberOfKeys: 2, lua: BEGIN_STEP_LUA });
    this.redis.defineCommand('tpEndRunSettling', { numberOfKeys: 3, lua: END_RUN_SETTLING_LUA });
    this.redis.defineCommand('tpEndAttempt', { numberOfKeys: 4, lua: END_ATTEMPT_LUA });
    this.redis.defineCommand('tpClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    this.scripts = this.redis as unknown as Scripts;
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
  async create(run: RunSnapshot, open: number, idempotency?: { key: string; ttlS: number }): Promise<{ created: true } | { created: false; existing: string }> {
    return createdOf(await this.scripts.tpCreate(...this.createArgs(run, open, idempotency)));
  }

  /**
   * Queues the creation of a run (no idempotency key) into a transaction of another client on the
   * same Redis: the step queue's, so that the run and its first jobs are written in one round
   * trip, and together or not at all.
   */
  createIn(tx: ChainableCommander, run: RunSnapshot, open: number): void {
    // EVAL, not a defined command: the other client does not know this store's scripts (Redis
    // still compiles the script once and keeps it).
    const [k1, k2, k3, k4, ...argv] = this.createArgs(run, open);
    tx.eval(CREATE_LUA, 4, k1, k2, k3, k4, ...argv);
  }

  private createArgs(run: RunSnapshot, open: number, idempotency?: { key: string; ttlS: number }): Array<string | number> {
    const { meta } = run;
    const fields: string[] = ['meta', metaJson(meta), 'def', JSON.stringify(run.definition), 'status', meta.status, 'open', String(open)];
    for (const [stepId, st] of Object.entries(run.steps)) if (st.status !== 'PENDING') fields.push(`step:${stepId}`, stepJson(st));
    const idemKey = idempotency ? `${this.base}:idem:${meta.tenantId}:${idempotency.key}` : `${this.base}:idem:-`;
    return [
      this.runKey(meta.id),
      this.deadlinesKey,
      this.liveKey(meta.tenantId),
      idemKey,
      meta.id,
      idempotency ? idempotency.ttlS : 0,
      meta.deadline,
      Date.parse(meta.createdAt),
      ...fields,
    ];
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
    return transitionOf(await this.scripts.tpStep(this.runKey(id), `step:${stepId}`, from.join(','), stepJson(state), state.status));
  }

  /** `setStep` queued into another client's transaction (see `createIn`); read its reply with `transitionOf`. */
  setStepIn(tx: ChainableCommander, id: string, stepId: string, from: readonly string[], state: StepState): void {
    tx.eval(STEP_TRANSITION_LUA, 1, this.runKey(id), `step:${stepId}`, from.join(','), stepJson(state), state.status);
  }

  /** Changes the run's meta (status included) if its status is one of `from`. */
  async setMeta(id: string, from: readonly string[], meta: RunMeta): Promise<boolean> {
    return (await this.scripts.tpSetMeta(this.runKey(id), this.outboxKey, this.deadlinesKey, from.join(','), metaJson(meta), meta.status, Date.now(), '0', id)) === 1;
  }

  /** Moves the run to its terminal status and enters it in the outbox, atomically. */
  async endRun(id: string, from: readonly string[], meta: RunMeta): Promise<boolean> {
    return (await this.scripts.tpSetMeta(this.runKey(id), this.outboxKey, this.deadlinesKey, from.join(','), metaJson(meta), meta.status, Date.now(), '1', id)) === 1;
  }

  /**
   * Ends the run and cancels its live steps atomically (END_RUN_SETTLING_LUA). `run` is the state
   * the caller read (for the steps' durations). Returns the steps cancelled, or null if the run
   * was no longer in one of `from`. The steps' `endedAt` is the run's (`meta.endedAt`).
   */
  async endRunSettling(
    run: RunSnapshot,
    from: readonly string[],
    meta: RunMeta,
    reason: string,
  ): Promise<Array<{ stepId: string; previous: string; state: StepState }> | null> {
    // The steps end at the run's end, the same clock reading, so no step ends after its run.
    const parsed = meta.endedAt ? Date.parse(meta.endedAt) : Number.NaN;
    const now = Number.isFinite(parsed) ? parsed : Date.now();
    const pairs: Array<string | number> = [];
    for (const s of run.definition.steps) {
      const startedAt = run.steps[s.id]?.startedAt;
      pairs.push(s.id, startedAt ? Math.max(0, now - Date.parse(startedAt)) : '');
    }
    const r = await this.scripts.tpEndRunSettling(
      this.runKey(meta.id),
      this.outboxKey,
      this.deadlinesKey,
      from.join(','),
      metaJson(meta),
      meta.status,
      now,
      meta.id,
      new Date(now).toISOString(),
      reason,
      ...pairs,
    );
    if (Number(r[0]) !== 1) return null;
    const settled: Array<{ stepId: string; previous: string; state: StepState }> = [];
    for (let i = 1; i < r.length; i += 3) settled.push({ stepId: String(r[i]), previous: String(r[i + 1]), state: JSON.parse(String(r[i + 2])) as StepState });
    return settled;
  }

  async beginStep(
    id: string,
    stepId: string,
    slot: { tenantId: string; member: string; leaseMs: number; limit: number },
    wantMeta: boolean,
    reads: readonly string[],
  ): Promise<BeginResult> {
    const now = Date.now();
    const r = await this.scripts.tpBegin(
      this.runKey(id),
      this.slotsKey(slot.tenantId),
      `step:${stepId}`,
      now,
      new Date(now).toISOString(),
      now + slot.leaseMs,
      slot.limit,
      slot.member,
      wantMeta ? '1' : '0',
      this.executorId,
      this.heartbeatKey(''),
      ...reads.map((s) => `step:${s}`),
    );
    switch (r[0]) {
      case 'OK': {
        const steps: Record<string, StepState> = {};
        reads.forEach((s, i) => {
          const raw = r[4 + i];
          if (raw) steps[s] = JSON.parse(raw) as StepState;
        });
        const out: BeginResult = { kind: 'ok', state: JSON.parse(r[1]!) as StepState, steps, attemptKind: r[3] as AttemptKind };
        if (r[2]) out.meta = JSON.parse(r[2]) as RunMeta;
        return out;
      }
      case 'BUSY':
        return { kind: 'busy' };
      case 'HELD':
        return { kind: 'held', forMs: Number(r[1]) };
      case 'ENDED':
        return { kind: 'ended', status: String(r[1]) };
      case 'STATE':
        return { kind: 'state', status: String(r[1]) };
      default:
        return { kind: 'gone' };
    }
  }

  /**
   * Ends an attempt (see END_ATTEMPT_LUA). `completesAt`: the run's end if this attempt completes
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
    const r = await this.scripts.tpEndAttempt(
      this.runKey(id),
      this.slotsKey(tenantId),
      this.outboxKey,
      this.deadlinesKey,
      `step:${stepId}`,
      stepJson(state),
      state.status,
      member,
      returnRun === 'always' ? '2' : returnRun === 'when-done' ? '1' : '0',
      completesAt ?? '',
      Date.now(),
      id,
    );
    if (Number(r[0]) !== 1) return { moved: false, seq: Number(r[1]), current: String(r[2]) };
    const out: EndAttemptResult = { moved: true, seq: Number(r[1]), open: Number(r[2]), runEnded: Number(r[3]) === 1 };
    if (r.length > 4) {
      const fields: Record<string, string> = {};
      for (let i = 4; i < r.length; i += 2) fields[String(r[i])] = String(r[i + 1]);
      out.fields = fields;
    }
    return out;
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
    return this.scripts.tpClaim(this.outboxKey, now, now + leaseMs, limit);
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

  /** Removes every key of this prefix that the store wrote (tests). */
  async purge(): Promise<void> {
    const stream = this.redis.scanStream({ match: `${this.base}:*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      const own = keys.filter((k) => /:(run|idem|slots|live|executor):/.test(k) || k.endsWith(':outbox') || k.endsWith(':deadlines'));
      if (own.length > 0) await this.redis.del(...own);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // The key is left to expire rather than deleted: shutdown hooks run in no fixed order, and
    // an attempt still draining here must not be taken over meanwhile.
    clearInterval(this.heartbeat);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** A snapshot from hash fields; steps without a field are PENDING. */
export function snapshotOf(hash: Record<string, string>, definition: WorkflowDefinition): RunSnapshot {
  const steps: Record<string, StepState> = {};
  for (const step of definition.steps) {
    const raw = hash[`step:${step.id}`];
    steps[step.id] = raw ? (JSON.parse(raw) as StepState) : pendingStep();
  }
  return { meta: JSON.parse(hash.meta) as RunMeta, definition, steps };
}

export const isLiveStep = (status: string): boolean => LIVE_STEP.has(status);
