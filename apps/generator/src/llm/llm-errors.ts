/**
 * Why a model call failed, in terms the generation maps to HTTP:
 * - `timeout`: no complete answer within the call's time → 504
 * - `rate_limited`: still 429 after the bounded retries → 503
 * - `unavailable`: 5xx or a broken connection after the retries, or a body that is not the protocol → 502
 * - `auth`: the server refused the key (401/403) → 502, naming the setting
 * - `rejected`: any other 4xx (model unknown, context too long, ...) → 502 with the server's message
 */
export type LlmErrorKind = 'timeout' | 'rate_limited' | 'unavailable' | 'auth' | 'rejected';

export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}
