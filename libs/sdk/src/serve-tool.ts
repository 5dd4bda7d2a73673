import { ErrorCode, type Msg, type NatsConnection, type Subscription } from 'nats';
import {
  DEFAULT_SUBJECT_PREFIX,
  TOOL_PROVIDER_QUEUE_GROUP,
  ToolDefinitionSchema,
  ToolReplySchema,
  ToolRequestSchema,
  toolSubject,
  type ToolDefinition,
  type ToolReply,
  type ToolRequest,
} from '@toolpath/contracts';
import { ToolpathSdkError } from './errors';
import { toJsonSafe } from './safe-json';
import { DEFAULT_TOOL_HEARTBEAT_MS, DEFAULT_TOOL_TTL_MS, ToolRegistry } from './tool-registry';

/**
 * Tools over NATS (docs/ARCHITECTURE.md#tools-over-nats): `serveTool` is the provider
 * side, `callTool` the caller side (the executor).
 *
 * Error policy, the same in the Python SDK:
 * - a thrown `ToolError` replies with its `retryable` (default `false`);
 * - any other thrown value replies `retryable: false`, unless it carries a boolean `retryable`
 *   property (so errors of other libraries can opt in);
 * - a handler still running at `context.deadline` is aborted (`context.signal`) and the caller
 *   gets `retryable: true` (so does one still running when `stop()` gives up waiting);
 * - a malformed request replies `retryable: false` without calling the handler;
 * - a reply larger than `MAX_TOOL_REPLY_BYTES` (or the server's max payload) is replaced by
 *   `{ message: 'result too large', retryable: false }`.
 */

/** Largest encoded reply a provider sends (the server's `max_payload` may lower it). */
export const MAX_TOOL_REPLY_BYTES = 1_000_000;
/** Longest error message put in a reply; longer ones are cut. */
export const MAX_TOOL_ERROR_MESSAGE = 4096;
/** Handlers one `serveTool` runs at once unless told otherwise. */
export const DEFAULT_TOOL_CONCURRENCY = 64;

/** Throw from a tool handler to choose whether the caller may retry. */
export class ToolError extends ToolpathSdkError {
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** The request's context plus a signal that aborts at `deadline` (and when the server stops). */
export type ToolContext = ToolRequest['context'] & { signal: AbortSignal };

export type ToolHandler<P = Record<string, unknown>, R = unknown> = (parameters: P, context: ToolContext) => R | Promise<R>;

export interface ServeToolOptions {
  /** Subject prefix; default `toolpath`. Serves `<prefix>.tools.<name>`. */
  prefix?: string;
  /** Queue group; default `TOOL_PROVIDER_QUEUE_GROUP`, so instances share the load. */
  queueGroup?: string;
  /** Write the definition to the registry (`<prefix>_tools` KV bucket); default true. */
  announce?: boolean;
  /** How often the definition is announced again while serving; default 10 s. */
  heartbeatMs?: number;
  /**
   * How long the registry treats the entry as live after an announce; default 30 s. Must exceed
   * `heartbeatMs` (three times it leaves room for two missed beats).
   */
  ttlMs?: number;
  /** Handlers run at once; further requests wait in the subscription. Default 64. */
  concurrency?: number;
  /** Cap on an encoded reply, default `MAX_TOOL_REPLY_BYTES`. */
  maxReplyBytes?: number;
  /** Told about requests that could not be answered normally (bad request, reply failure) and failed heartbeats. */
  onError?: (err: unknown) => void;
  /**
   * Opt-in de-duplication on the request's `context.idempotencyKey` (the executor sends the same
   * key for every attempt of a step, a takeover after an executor crash included): a request
   * whose key already completed here gets the stored result again instead of running the handler
   * twice, and one that arrives while the first still runs waits for it. Only successes are kept
   * (a failed attempt may be retried for real), per tenant, in this process's memory: instances
   * of a provider do not share it. `true` uses the defaults. Requests without a key run as usual.
   */
  dedupe?: boolean | DedupeOptions;
}

export interface DedupeOptions {
  /** How long a completed result is returned again; default 10 minutes. */
  ttlMs?: number;
  /** Most results kept; the oldest go first. Default 10,000. */
  maxEntries?: number;
}

/** How long `dedupe` keeps a completed result unless told. */
export const DEFAULT_DEDUPE_TTL_MS = 10 * 60_000;
/** How many completed results `dedupe` keeps unless told. */
export const DEFAULT_DEDUPE_MAX_ENTRIES = 10_000;

/**
 * Completed results by (tenant, idempotency key), bounded in time and count, plus the attempts
 * still running, which duplicates wait for. Insertion order is expiry order (one TTL for all),
 * so pruning only ever looks at the oldest entries.
 */
class DedupeCache {
  private readonly done = new Map<string, { result: unknown; expiresAt: number }>();
  readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): { result: unknown } | undefined {
    const hit = this.done.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= Date.now()) {
      this.done.delete(key);
      return undefined;
    }
    return { result: hit.result };
  }

  set(key: string, result: unknown): void {
    this.done.delete(key);
    this.done.set(key, { result, expiresAt: Date.now() + this.ttlMs });
    const now = Date.now();
    for (const [k, v] of this.done) {
      if (this.done.size > this.maxEntries || v.expiresAt <= now) this.done.delete(k);
      else break;
    }
  }
}

export interface ToolServerStats {
  received: number;
  ok: number;
  failed: number;
  badRequests: number;
  timedOut: number;
  tooLarge: number;
  /** Requests answered with a stored result (or after waiting for the first) instead of running the handler (`dedupe`). */
  deduplicated: number;
  inFlight: number;
}

export interface ToolServer {
  readonly subject: string;
  readonly queueGroup: string;
  stats(): ToolServerStats;
  /**
   * Drains the subscription (requests already delivered are still answered), then waits up to
   * `timeoutMs` (default 10 s) for running handlers; those still running are aborted and answered
   * `{ message: 'tool <name> provider stopped', retryable: true }`. Stops the heartbeat but leaves
   * the registry entry: other instances may still serve the tool and keep it live; if none does,
   * it expires `ttlMs` after the last announce (`ToolRegistry.remove` retires it now). Idempotent.
   */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Serves `definition.name` on `toolSubject(prefix, name)` in a queue group and (by default)
 * announces it in the registry once the subscription is live, then again every `heartbeatMs`
 * until `stop()` or the connection closes, so the entry expires when the provider dies. Rejects
 * if the definition or the timings are invalid, or the first announce fails (the subscription is
 * then removed); a failed heartbeat goes to `onError` and the next one tries again.
 */
export async function serveTool<P = Record<string, unknown>, R = unknown>(
  nc: NatsConnection,
  definition: ToolDefinition,
  handler: ToolHandler<P, R>,
  opts: ServeToolOptions = {},
): Promise<ToolServer> {
  const def = ToolDefinitionSchema.safeParse(definition);
  if (!def.success) {
    throw new ToolpathSdkError(`invalid tool definition: ${def.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_TOOL_HEARTBEAT_MS;
  const ttlMs = opts.ttlMs ?? DEFAULT_TOOL_TTL_MS;
  if (!(Number.isFinite(heartbeatMs) && heartbeatMs > 0) || !(Number.isFinite(ttlMs) && ttlMs > heartbeatMs)) {
    throw new ToolpathSdkError(`invalid liveness timings: heartbeatMs (${heartbeatMs}) must be positive and ttlMs (${ttlMs}) larger`);
  }
  const prefix = opts.prefix ?? DEFAULT_SUBJECT_PREFIX;
  const queueGroup = opts.queueGroup ?? TOOL_PROVIDER_QUEUE_GROUP;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_TOOL_CONCURRENCY));
  const serverMax = nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
  const maxReplyBytes = Math.min(opts.maxReplyBytes ?? MAX_TOOL_REPLY_BYTES, serverMax);
  const subject = toolSubject(prefix, def.data.name);
  const counts = { received: 0, ok: 0, failed: 0, badRequests: 0, timedOut: 0, tooLarge: 0, deduplicated: 0 };
  const dedupeOpts = opts.dedupe === true ? {} : opts.dedupe || undefined;
  if (dedupeOpts) {
    const { ttlMs: t, maxEntries: m } = dedupeOpts;
    if ((t !== undefined && !(Number.isFinite(t) && t > 0)) || (m !== undefined && !(Number.isInteger(m) && m > 0))) {
      throw new ToolpathSdkError(`invalid dedupe options: ttlMs (${t}) must be positive and maxEntries (${m}) a positive integer`);
    }
  }
  /** Set once stop() aborts the running handlers: a duplicate still waiting then gives up too. */
  let halted = false;
  const dedupe = dedupeOpts ? new DedupeCache(dedupeOpts.ttlMs ?? DEFAULT_DEDUPE_TTL_MS, dedupeOpts.maxEntries ?? DEFAULT_DEDUPE_MAX_ENTRIES) : undefined;
  const running = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  const slotWaiters: Array<() => void> = [];
  const report = (err: unknown) => {
    try {
      opts.onError?.(err);
    } catch {
      // a faulty logger must not stop the server
    }
  };

  const respond = (msg: Msg, reply: ToolReply) => {
    let bytes = Buffer.from(toJsonSafe(reply));
    if (bytes.length > maxReplyBytes) {
      counts.tooLarge++;
      bytes = Buffer.from(JSON.stringify({ ok: false, error: { message: 'result too large', retryable: false } }));
    }
    try {
      msg.respond(bytes);
    } catch (err) {
      report(err);
    }
  };

  const handle = async (msg: Msg): Promise<void> => {
    counts.received++;
    let request: ToolRequest;
    try {
      const parsed = ToolRequestSchema.safeParse(JSON.parse(msg.string()));
      if (!parsed.success) {
        throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
      }
      request = parsed.data;
    } catch (err) {
      counts.badRequests++;
      const message = `invalid tool request: ${err instanceof Error ? err.message : String(err)}`;
      report(new ToolpathSdkError(message));
      respond(msg, { ok: false, error: { message: cut(message), retryable: false } });
      return;
    }
    const remaining = request.context.deadline - Date.now();
    if (remaining <= 0) {
      counts.timedOut++;
      respond(msg, { ok: false, error: { message: `tool ${def.data.name} deadline passed before it started`, retryable: true } });
      return;
    }
    const key = dedupe && request.context.idempotencyKey ? `${request.context.tenantId}\n${request.context.idempotencyKey}` : undefined;
    if (dedupe && key) {
      // A duplicate of an attempt that completed gets its result; one of an attempt still running
      // waits for it (bounded by its own deadline), then looks again: a failed first attempt
      // leaves nothing stored, so the duplicate runs the handler itself.
      for (;;) {
        const hit = dedupe.get(key);
        if (hit) {
          counts.deduplicated++;
          respond(msg, { ok: true, result: hit.result });
          return;
        }
        if (halted) {
          respond(msg, { ok: false, error: { message: `tool ${def.data.name} provider stopped`, retryable: true } });
          return;
        }
        const first = dedupe.running.get(key);
        if (!first) break;
        let waitTimer: NodeJS.Timeout | undefined;
        const expired = await Promise.race([
          first.then(() => false),
          new Promise<boolean>((r) => (waitTimer = setTimeout(() => r(true), Math.max(0, Math.min(request.context.deadline - Date.now(), 2_147_483_647))))),
        ]);
        clearTimeout(waitTimer);
        if (expired) {
          counts.timedOut++;
          respond(msg, { ok: false, error: { message: `tool ${def.data.name}: the first attempt with this idempotency key still runs`, retryable: true } });
          return;
        }
      }
    }
    let settle: () => void = () => undefined;
    if (dedupe && key) dedupe.running.set(key, new Promise<void>((r) => (settle = r)));
    try {
      await run(msg, request, key);
    } finally {
      if (dedupe && key) dedupe.running.delete(key);
      settle();
    }
  };

  const run = async (msg: Msg, request: ToolRequest, key: string | undefined): Promise<void> => {
    const remaining = request.context.deadline - Date.now();
    const controller = new AbortController();
    controllers.add(controller);
    const timer = setTimeout(
      () => controller.abort(new ToolError(`tool ${def.data.name} exceeded its deadline`, { retryable: true })),
      Math.min(remaining, 2_147_483_647),
    );
    const aborted = new Promise<{ aborted: unknown }>((resolve) => {
      controller.signal.addEventListener('abort', () => resolve({ aborted: controller.signal.reason }), { once: true });
    });
    const work = (async () => handler(request.parameters as P, { ...request.context, signal: controller.signal }))().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    try {
      const outcome = await Promise.race([work, aborted]);
      if ('aborted' in outcome) {
        counts.timedOut++;
        respond(msg, { ok: false, error: errorBody(outcome.aborted) });
      } else if ('error' in outcome) {
        counts.failed++;
        respond(msg, { ok: false, error: errorBody(outcome.error) });
      } else {
        counts.ok++;
        const result = outcome.result === undefined ? null : outcome.result;
        if (dedupe && key) dedupe.set(key, result);
        respond(msg, { ok: true, result });
      }
    } finally {
      clearTimeout(timer);
      controllers.delete(controller);
    }
  };

  const sub: Subscription = nc.subscribe(subject, { queue: queueGroup });
  const loop = (async () => {
    for await (const msg of sub) {
      if (!msg.reply) continue; // a publish, not a request: nobody to answer
      while (running.size >= concurrency) await new Promise<void>((r) => slotWaiters.push(r));
      const p: Promise<void> = handle(msg)
        .catch(report)
        .finally(() => {
          running.delete(p);
          slotWaiters.shift()?.();
        });
      running.add(p);
    }
  })().catch(report);

  const registry = new ToolRegistry(nc, prefix);
  try {
    // The subscription is live on the server before serveTool resolves (and before the registry
    // points callers at it), so a caller right after never misses this provider.
    await nc.flush();
    if (opts.announce ?? true) await registry.announce(def.data, { ttlMs });
  } catch (err) {
    sub.unsubscribe();
    await loop;
    throw err;
  }

  // Heartbeat: re-announce on a chained timer (never two writes at once). Every instance writes
  // the same key, so the entry stays live while any of them runs. Unref'd: the subscription,
  // not the heartbeat, is what keeps a provider process alive.
  let beating = opts.announce ?? true;
  let beatTimer: NodeJS.Timeout | undefined;
  let beat: Promise<void> = Promise.resolve();
  const scheduleBeat = () => {
    if (!beating) return;
    beatTimer = setTimeout(() => {
      if (!beating || nc.isClosed() || sub.isClosed()) return;
      beat = registry
        .announce(def.data, { ttlMs })
        .then(
          () => undefined,
          (err: unknown) => report(new ToolpathSdkError(`tool ${def.data.name}: heartbeat failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })),
        )
        .finally(scheduleBeat);
    }, heartbeatMs);
    beatTimer.unref();
  };
  scheduleBeat();

  let stopping: Promise<void> | undefined;
  return {
    subject,
    queueGroup,
    stats: () => ({ ...counts, inFlight: running.size }),
    stop: ({ timeoutMs = 10_000 } = {}) => {
      stopping ??= (async () => {
        beating = false;
        clearTimeout(beatTimer);
        await beat; // a heartbeat already on the wire lands before stop() resolves, never after
        try {
          if (!sub.isClosed()) await sub.drain();
        } catch {
          sub.unsubscribe(); // the connection is closing; nothing left to drain
        }
        await loop;
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
        await Promise.race([Promise.all([...running]), grace]);
        clearTimeout(timer);
        halted = true;
        const stopped = new ToolError(`tool ${def.data.name} provider stopped`, { retryable: true });
        for (const c of controllers) c.abort(stopped);
        await Promise.all([...running]);
      })();
      return stopping;
    },
  };
}

function cut(message: string): string {
  return message.length > MAX_TOOL_ERROR_MESSAGE ? `${message.slice(0, MAX_TOOL_ERROR_MESSAGE - 1)}…` : message;
}

function errorBody(err: unknown): { message: string; retryable: boolean } {
  let message: string;
  if (err instanceof Error) message = err.message;
  else if (typeof err === 'string') message = err;
  else message = toJsonSafe(err);
  const flag = typeof err === 'object' && err !== null ? (err as { retryable?: unknown }).retryable : undefined;
  return { message: cut(message || 'tool failed'), retryable: typeof flag === 'boolean' ? flag : false };
}

/** Why `callTool` failed. */
export type ToolCallErrorCode =
  /** Nobody serves the tool (no responders). Retryable. */
  | 'no_provider'
  /** No reply within `timeoutMs`. Retryable. */
  | 'timeout'
  /** The provider replied `ok: false`; `retryable` is the provider's. */
  | 'tool_error'
  /** The reply is not JSON or not a `ToolReply`. Not retryable. */
  | 'bad_reply'
  /** The request could not be sent: invalid, too large (not retryable) or connection closed (retryable). */
  | 'request_failed';

export class ToolCallError extends ToolpathSdkError {
  constructor(
    message: string,
    readonly code: ToolCallErrorCode,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Calls tool `name` at `toolSubject(prefix, name)` and returns its `result`, or throws a
 * `ToolCallError` (`code`, `retryable`). `timeoutMs` bounds the wait; callers usually pass
 * `context.deadline - Date.now()`.
 */
export async function callTool(
  nc: NatsConnection,
  prefix: string,
  name: string,
  parameters: Record<string, unknown>,
  context: ToolRequest['context'],
  timeoutMs: number,
): Promise<unknown> {
  const request = ToolRequestSchema.safeParse({ parameters, context });
  if (!request.success || !ToolDefinitionSchema.shape.name.safeParse(name).success) {
    const detail = request.success ? `bad tool name ${JSON.stringify(name)}` : request.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ToolCallError(`invalid tool request: ${detail}`, 'request_failed', false);
  }
  let reply: Msg;
  try {
    reply = await nc.request(toolSubject(prefix, name), toJsonSafe(request.data), { timeout: Math.max(1, Math.floor(timeoutMs)) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === ErrorCode.NoResponders) throw new ToolCallError(`no provider serves tool ${name}`, 'no_provider', true, { cause: err });
    if (code === ErrorCode.Timeout) throw new ToolCallError(`tool ${name} did not reply within ${timeoutMs} ms`, 'timeout', true, { cause: err });
    const retryable = code !== ErrorCode.MaxPayloadExceeded && code !== ErrorCode.BadPayload;
    throw new ToolCallError(`calling tool ${name} failed: ${err instanceof Error ? err.message : String(err)}`, 'request_failed', retryable, { cause: err });
  }
  let parsed: ToolReply;
  try {
    const r = ToolReplySchema.safeParse(JSON.parse(reply.string()));
    if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    parsed = r.data;
  } catch (err) {
    throw new ToolCallError(`tool ${name} sent a malformed reply: ${err instanceof Error ? err.message : String(err)}`, 'bad_reply', false, { cause: err });
  }
  if (!parsed.ok) throw new ToolCallError(parsed.error.message, 'tool_error', parsed.error.retryable);
  return parsed.result;
}
