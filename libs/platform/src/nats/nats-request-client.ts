import { ErrorCode, type Msg, type NatsConnection } from 'nats';
import { isServiceReply, type RequestReplies, type SubjectsOf } from '@toolpath/contracts';
import { NatsErrorReply, NatsInvalidReply, NatsNoResponders, NatsPayloadTooLarge, NatsRequestFailed, NatsRequestTimeout } from './nats-request-errors';

export interface NatsRequestClientOptions<M> {
  /** The service's name as errors name it ("no analyzer is listening"). */
  service: string;
  /** The service's subjects by name (`analyzerSubjects(prefix)`, say). */
  subjects: SubjectsOf<M>;
  /** The connection holder (NatsClient); read at each request, not when constructed. */
  nats: { readonly nc: NatsConnection };
  /** How long a request waits for an answer unless the call says otherwise. */
  timeoutMs: number;
  /** The service may take the whole wait by design (a generation waits for a model): a timeout then means late, not down. */
  slowService?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The client side of `NatsRequestServer`: a service's subjects, typed by its request map in
 * `@toolpath/contracts` (`AnalyzerRequests`, say), JSON in and the value of a `ServiceReply` out.
 * Anything else is a named error (`nats-request-errors.ts`), never a status object: the caller
 * decides what each means, the HTTP edge maps them to statuses.
 */
export class NatsRequestClient<M extends RequestReplies<M>> {
  constructor(private readonly opts: NatsRequestClientOptions<M>) {}

  async request<K extends keyof M & string>(name: K, body: M[K]['request'], timeoutMs = this.opts.timeoutMs): Promise<M[K]['reply']> {
    const { service, nats } = this.opts;
    const subject = this.opts.subjects[name];
    const data = encoder.encode(JSON.stringify(body));
    // NATS carries at most max_payload bytes per message: a larger request is the caller's to
    // make smaller, not a sign that the service is down.
    const maxPayload = nats.nc.info?.max_payload;
    if (maxPayload !== undefined && data.length > maxPayload) throw new NatsPayloadTooLarge(service, subject, data.length, maxPayload, largestField(body));
    let msg: Msg;
    try {
      msg = await nats.nc.request(subject, data, { timeout: timeoutMs });
    } catch (err) {
      const code = (err as { code?: string })?.code;
      if (code === ErrorCode.MaxPayloadExceeded) throw new NatsPayloadTooLarge(service, subject, data.length, nats.nc.info?.max_payload, largestField(body));
      if (code === ErrorCode.NoResponders) throw new NatsNoResponders(service, subject);
      if (code === ErrorCode.Timeout) throw new NatsRequestTimeout(service, subject, timeoutMs, this.opts.slowService ?? false);
      throw new NatsRequestFailed(service, subject, err);
    }
    const reply = decode(msg.data);
    if (!isServiceReply(reply)) throw new NatsInvalidReply(service, subject);
    if (!reply.ok) throw new NatsErrorReply(service, subject, reply.error);
    return reply.value as M[K]['reply'];
  }

  /**
   * Throws the `NatsPayloadTooLarge` a request on `name` would, at once, when `part` of it alone is
   * over max_payload. Callers check a large user value with it before walking it (key and
   * storability checks take hundreds of milliseconds on a million-element array, and the event
   * loop waits meanwhile).
   */
  assertFits(name: keyof M & string, part: Record<string, unknown>): void {
    const maxPayload = this.opts.nats.nc.info?.max_payload;
    if (maxPayload === undefined) return;
    let bytes: number;
    try {
      bytes = encoder.encode(JSON.stringify(part)).length;
    } catch {
      // Too deep to encode (JSON.stringify overflows the stack near 10,000 levels): the body's
      // own checks, which run next, refuse it naming the field.
      return;
    }
    if (bytes > maxPayload) throw new NatsPayloadTooLarge(this.opts.service, this.opts.subjects[name], bytes, maxPayload, largestField(part), true);
  }
}

function decode(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
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
