import { ErrorCode, JSONCodec, type NatsError } from 'nats';
import { isServiceReply } from '@toolpath/contracts';
import { ApiError, type NatsClient } from '@toolpath/platform';

export interface NatsServiceClientOptions {
  /** The service's name as errors name it ("the analyzer is unavailable"). */
  service: string;
  /** How long a request waits for an answer unless the call says otherwise. */
  timeoutMs: number;
  /** Status of a request nobody answered in time: 503 (the service is unavailable) unless told (the generator's slow answers are a 504). */
  timeoutStatus?: 503 | 504;
}

const codec = JSONCodec<unknown>();

/**
 * One service (executor, analyzer, generator) over NATS request/reply. The reply is checked and
 * mapped to HTTP here: an error reply becomes an ApiError with its status, message and details
 * (plus `code` when the details are not a list of field issues), a service that does not answer a
 * 503 (or 504) naming it, an answer that is not a reply a 502.
 */
export class NatsServiceClient {
  constructor(
    private readonly nats: NatsClient,
    private readonly opts: NatsServiceClientOptions,
  ) {}

  async request<T>(subject: string, payload: unknown, timeoutMs = this.opts.timeoutMs): Promise<T> {
    const data = codec.encode(payload);
    // NATS carries at most max_payload bytes per message: a larger request is the caller's
    // (413 naming the limit), not an unavailable service.
    const maxPayload = this.nats.nc.info?.max_payload;
    if (maxPayload !== undefined && data.length > maxPayload) throw this.tooLarge(payload, data.length, maxPayload);
    let reply: unknown;
    try {
      const msg = await this.nats.nc.request(subject, data, { timeout: timeoutMs });
      reply = codec.decode(msg.data);
    } catch (err) {
      if ((err as NatsError)?.code === ErrorCode.MaxPayloadExceeded) throw this.tooLarge(payload, data.length, this.nats.nc.info?.max_payload);
      throw this.unavailable(subject, err, timeoutMs);
    }
    const { service } = this.opts;
    if (!isServiceReply(reply)) throw new ApiError(502, `the ${service} answered ${subject} with something that is not ${article(service)} ${service} reply`);
    if (reply.ok) return reply.value as T;
    const { status, code, message, details } = reply.error;
    const statusCode = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    throw new ApiError(statusCode, message, errorDetails(code, details));
  }

  /**
   * The 413 `request` would answer, at once, when `part` of a request alone is over max_payload.
   * Callers check a large user value with it before walking it (key and storability checks take
   * hundreds of milliseconds on a million-element array, and the event loop waits meanwhile).
   */
  assertFits(part: Record<string, unknown>): void {
    const maxPayload = this.nats.nc.info?.max_payload;
    if (maxPayload === undefined) return;
    let bytes: number;
    try {
      bytes = codec.encode(part).length;
    } catch {
      // Too deep to encode (JSON.stringify overflows the stack near 10,000 levels): the body's
      // own checks, which run next, refuse it with a 400 naming the field.
      return;
    }
    if (bytes > maxPayload) throw this.tooLarge(part, bytes, maxPayload, 'at least ');
  }

  /** 413 naming the limit and the largest field of the request (what to make smaller: `input`, usually). */
  private tooLarge(payload: unknown, bytes: number, limit: number | undefined, atLeast = ''): ApiError {
    const field = largestField(payload);
    const max = limit === undefined ? 'the NATS max_payload' : `${limit} bytes (the NATS max_payload)`;
    return new ApiError(413, `${field}: the request to the ${this.opts.service} is ${atLeast}${bytes} bytes once encoded, over the limit of ${max}; send less`, [
      { field, message: `the request carrying it must be at most ${limit ?? 'max_payload'} bytes once encoded` },
    ]);
  }

  private unavailable(subject: string, err: unknown, timeoutMs: number): ApiError {
    const { service } = this.opts;
    const details = { dependency: service, subject };
    const code = (err as NatsError)?.code;
    if (code === ErrorCode.Timeout && this.opts.timeoutStatus === 504) return new ApiError(504, `the ${service} did not answer within ${timeoutMs} ms (${subject})`, details);
    const why =
      code === ErrorCode.NoResponders
        ? `no ${service} is listening`
        : code === ErrorCode.Timeout
          ? `no answer within ${timeoutMs} ms`
          : `request failed: ${String((err as Error)?.message ?? err)}`;
    return new ApiError(503, `the ${service} is unavailable (${why} on ${subject})`, details);
  }
}

/** The top-level field of a request whose JSON is the longest, or `(body)`. */
function largestField(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return '(body)';
  let best = '(body)';
  let bestLength = -1;
  for (const [key, value] of Object.entries(payload)) {
    const length = JSON.stringify(value)?.length ?? 0;
    if (length > bestLength) [best, bestLength] = [key, length];
  }
  return best;
}

/**
 * A list of field issues is passed on as it is (every 4xx of the API names its fields that way);
 * otherwise the details are an object that carries the reply's `code`.
 */
function errorDetails(code: string, details: unknown): ConstructorParameters<typeof ApiError>[2] {
  if (Array.isArray(details)) return details as ConstructorParameters<typeof ApiError>[2];
  return { code, ...(typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {}) };
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
