import type { ServiceReplyError } from '@toolpath/contracts';

/**
 * A request to a service over NATS that brought back no value. Each kind is its own class, so a
 * caller tells them apart with `instanceof` (a read may try again when nobody listens; a service's
 * own refusal is final) and the HTTP edge maps each to its status (`natsRequestErrorBody`).
 * `service` is the service as people name it ("analyzer"), `subject` the subject asked.
 */
export abstract class NatsRequestError extends Error {
  constructor(
    readonly service: string,
    readonly subject: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Nobody serves the subject (no instance of the service is running, or none has subscribed yet). */
export class NatsNoResponders extends NatsRequestError {
  constructor(service: string, subject: string) {
    super(service, subject, `no ${service} is listening on ${subject}`);
  }
}

/** No answer within `timeoutMs`. */
export class NatsRequestTimeout extends NatsRequestError {
  constructor(
    service: string,
    subject: string,
    readonly timeoutMs: number,
    /** The service may take the whole wait by design (a generation waits for a model): late, not down. */
    readonly slowService: boolean,
  ) {
    super(service, subject, `no answer from the ${service} within ${timeoutMs} ms on ${subject}`);
  }
}

/** The request is over what NATS carries (the server's `max_payload`); nothing was sent. */
export class NatsPayloadTooLarge extends NatsRequestError {
  constructor(
    service: string,
    subject: string,
    /** Bytes of the encoded request (or of the part checked, when `atLeast`). */
    readonly bytes: number,
    /** The server's max_payload, when known. */
    readonly limit: number | undefined,
    /** Top-level field of the request with the longest JSON: what to make smaller. */
    readonly field: string,
    /** True when only a part of the request was measured: the whole is at least `bytes`. */
    readonly atLeast = false,
  ) {
    super(service, subject, `the request to the ${service} on ${subject} is ${atLeast ? 'at least ' : ''}${bytes} bytes, over the NATS max_payload (${limit ?? '?'} bytes)`);
  }
}

/** The service answered with an error reply (`ServiceReply` `ok: false`): its own refusal. */
export class NatsErrorReply extends NatsRequestError {
  constructor(
    service: string,
    subject: string,
    readonly reply: ServiceReplyError,
  ) {
    super(service, subject, reply.message);
  }

  get status(): number {
    return this.reply.status;
  }

  get code(): string {
    return this.reply.code;
  }

  get details(): unknown {
    return this.reply.details;
  }
}

/** The answer is not a `ServiceReply` (not JSON, or another shape). */
export class NatsInvalidReply extends NatsRequestError {
  constructor(service: string, subject: string) {
    super(service, subject, `the ${service} answered ${subject} with something that is not ${article(service)} ${service} reply`);
  }
}

/** The request failed otherwise (the connection closed or is draining, say). */
export class NatsRequestFailed extends NatsRequestError {
  /** What NATS said. */
  readonly reason: string;

  constructor(service: string, subject: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(service, subject, `request to the ${service} on ${subject} failed: ${reason}`, { cause });
    this.reason = reason;
  }
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
