import { performance } from 'node:perf_hooks';
import type { ToolEventInput } from '@toolpath/contracts';
import { EventTooLargeError } from './errors';
import { newEventId } from './event-id';

/** Who and what a session is about; every event of the session carries these. */
export interface ToolSessionOptions {
  /** The request text, e.g. the user's last message. */
  intent?: string;
  /** Defaults to a new UUIDv7. */
  sessionId?: string;
  userId?: string;
  agentId?: string;
  /** Overrides the publisher's `source`. */
  source?: string;
}

/** How `ToolSession.end` closes the session; each field overrides what the session recorded. */
export interface EndSessionOptions {
  success?: boolean;
  result?: unknown;
  error?: string;
}

/** Where a session sends its events: `publish` may throw, `reportError` must not. */
export interface SessionSink {
  publish(input: ToolEventInput): string;
  reportError(err: Error): void;
}

/** The contract caps `error` and `intent` at 10 000 characters. */
const MAX_TEXT = 10_000;

/**
 * One task: each `track()`ed call becomes a `tool_call` event with the next `seq`, and `end()`
 * publishes the `session_end` that closes it. Publishing problems are reported through the
 * publisher's `onError` and never reach the code being tracked.
 */
export class ToolSession {
  readonly sessionId: string;
  private readonly common: Pick<ToolEventInput, 'sessionId' | 'userId' | 'agentId' | 'source' | 'intent'>;
  private nextSeq = 0;
  /** Latest end (epoch ms) of a tracked call: the session_end is stamped no earlier. */
  private lastCallEndMs = -Infinity;
  private failedSteps = 0;
  private result: unknown;
  private resultSuccess?: boolean;
  private ended = false;

  constructor(
    private readonly sink: SessionSink,
    opts: ToolSessionOptions = {},
  ) {
    this.sessionId = opts.sessionId ?? newEventId();
    this.common = withoutUndefined({
      sessionId: this.sessionId,
      userId: opts.userId,
      agentId: opts.agentId,
      source: opts.source,
      intent: opts.intent === undefined ? undefined : clip(opts.intent),
    });
  }

  /** Whether `end()` has been called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Runs `fn` (sync or async), publishes a `tool_call` with its timing and outcome, and returns
   * its result or rethrows its error unchanged.
   */
  async track<T>(tool: string, parameters: Record<string, unknown> | undefined, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
    const seq = this.nextSeq++;
    const startedAt = Date.now();
    const t0 = performance.now();
    let value: Awaited<T>;
    try {
      value = await fn();
    } catch (err) {
      this.failedSteps++;
      const durationMs = this.callEnded(startedAt, t0);
      this.emit({
        ...this.common,
        kind: 'tool_call',
        tool,
        parameters,
        seq,
        success: false,
        error: clip(errorMessage(err)),
        startedAt: new Date(startedAt).toISOString(),
        durationMs,
      });
      throw err;
    }
    const durationMs = this.callEnded(startedAt, t0);
    this.emit({
      ...this.common,
      kind: 'tool_call',
      tool,
      parameters,
      seq,
      success: true,
      result: value,
      startedAt: new Date(startedAt).toISOString(),
      durationMs,
    });
    return value;
  }

  /** Records the session's outcome for `end()`; `success` given here wins over the tracked steps. */
  setResult(result: unknown, success?: boolean): void {
    this.result = result;
    if (success !== undefined) this.resultSuccess = success;
  }

  /**
   * Publishes `session_end` once (later calls do nothing and return undefined). Success is, in
   * order: `opts.success`, the one given to `setResult`, else whether every tracked step succeeded.
   * It is stamped with the time the session ended (`durationMs` 0), never its start: in time
   * order too it comes after every call of the session.
   */
  end(opts: EndSessionOptions = {}): string | undefined {
    if (this.ended) return undefined;
    this.ended = true;
    return this.emit(
      withoutUndefined({
        ...this.common,
        kind: 'session_end' as const,
        seq: this.nextSeq++,
        success: opts.success ?? this.resultSuccess ?? this.failedSteps === 0,
        result: opts.result !== undefined ? opts.result : this.result,
        error: opts.error === undefined ? undefined : clip(opts.error),
        startedAt: new Date(Math.max(Date.now(), Math.ceil(this.lastCallEndMs))).toISOString(),
        durationMs: 0,
      }),
    );
  }

  /** The call's duration; remembers its end for the session_end's time. */
  private callEnded(startedAt: number, t0: number): number {
    const durationMs = elapsed(t0);
    this.lastCallEndMs = Math.max(this.lastCallEndMs, startedAt + durationMs);
    return durationMs;
  }

  /**
   * Publishes without ever throwing. An event over the size limit is sent again with its result
   * (then, if still too large, its parameters) replaced by a marker, so the step is still recorded.
   */
  private emit(input: ToolEventInput): string | undefined {
    input.eventId = newEventId();
    let tooLarge: EventTooLargeError;
    try {
      return this.sink.publish(input);
    } catch (err) {
      this.sink.reportError(err as Error);
      if (!(err instanceof EventTooLargeError)) return undefined;
      tooLarge = err;
    }
    const marker = `[truncated: the event was ${tooLarge.size} bytes, over the ${tooLarge.limit}-byte limit]`;
    const attempts: ToolEventInput[] = [
      { ...input, result: marker },
      { ...input, result: marker, parameters: { truncated: marker } },
    ];
    for (const attempt of attempts) {
      try {
        return this.sink.publish(attempt);
      } catch (err) {
        if (!(err instanceof EventTooLargeError)) {
          this.sink.reportError(err as Error);
          return undefined;
        }
      }
    }
    return undefined;
  }
}

function elapsed(since: number): number {
  return Math.max(0, Math.round((performance.now() - since) * 1000) / 1000);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  try {
    return String(err);
  } catch {
    return 'unknown error';
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
