import type { AttemptKind } from '@toolpath/contracts';

/** Why a tool call failed; `code` is what a step's `retry.retryOn` lists. */
export type ToolErrorCode =
  | 'timeout'
  | 'provider_down'
  | 'unknown_tool'
  | 'tool_error'
  | 'invalid_parameters'
  | 'aborted'
  | 'http_status'
  | 'too_large'
  | 'host_not_allowed'
  | 'network'
  | 'subworkflow_failed'
  | 'template';

/** A failed tool call, with whether another attempt could succeed. */
export class ToolError extends Error {
  constructor(
    readonly code: ToolErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** What a built-in or remote tool call gets besides its parameters. */
export interface ToolCallContext {
  tenantId: string;
  executionId: string;
  stepId: string;
  attempt: number;
  /** The step's key across its attempts (a takeover's too): `stepIdempotencyKey(run, step)`. */
  idempotencyKey: string;
  /** Why this attempt runs: first, retry after a failed attempt, or takeover of a dead executor's. */
  attemptKind: AttemptKind;
  depth: number;
  /** Epoch ms after which the caller stops waiting. */
  deadline: number;
  /** Aborted on timeout, cancel, or shutdown. */
  signal: AbortSignal;
}

export interface BuiltinTool {
  readonly name: string;
  call(parameters: Record<string, unknown>, context: ToolCallContext): Promise<unknown>;
}

/** Resolves when `ms` have passed; rejects with ToolError('aborted') when the signal fires first. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error an aborted call ends with: a timeout is retryable, a cancel is not. */
export function abortError(signal: AbortSignal): ToolError {
  const reason: unknown = signal.reason;
  if (reason instanceof ToolError) return reason;
  return new ToolError('aborted', reason instanceof Error ? reason.message : 'aborted', false);
}
