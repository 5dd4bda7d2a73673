import type { Backoff } from '@toolpath/workflow';

/**
 * Delay before the retry that follows the `failedAttempts`-th failure: `delayMs` every time
 * (fixed) or doubling from it (exponential), never above `maxDelayMs`.
 */
export function retryDelayMs(backoff: Backoff | undefined, failedAttempts: number): number {
  if (!backoff) return 0;
  const n = Math.max(1, failedAttempts);
  const raw = backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** Math.min(n - 1, 30);
  return Math.min(raw, backoff.maxDelayMs ?? Number.MAX_SAFE_INTEGER);
}

/** Caps a step's stored result at `maxBytes` of JSON; a larger one becomes a marked preview. */
export function capResult(result: unknown, maxBytes: number): { result: unknown; truncated: boolean } {
  if (result === undefined) return { result: null, truncated: false };
  const json = JSON.stringify(result);
  if (json === undefined) return { result: null, truncated: false };
  if (Buffer.byteLength(json) <= maxBytes) return { result, truncated: false };
  return { result: Buffer.from(json).subarray(0, Math.max(0, maxBytes - 64)).toString('utf8'), truncated: true };
}
