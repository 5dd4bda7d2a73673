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
    let reply: unknown;
    try {
      const msg = await this.nats.nc.request(subject, codec.encode(payload), { timeout: timeoutMs });
      reply = codec.decode(msg.data);
    } catch (err) {
      throw this.unavailable(subject, err, timeoutMs);
    }
    const { service } = this.opts;
    if (!isServiceReply(reply)) throw new ApiError(502, `the ${service} answered ${subject} with something that is not ${article(service)} ${service} reply`);
    if (reply.ok) return reply.value as T;
    const { status, code, message, details } = reply.error;
    const statusCode = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    throw new ApiError(statusCode, message, errorDetails(code, details));
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
