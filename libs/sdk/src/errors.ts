import type { FieldIssue } from '@toolpath/contracts';

/** Base class of every error the SDK raises or reports, so callers can catch them as one. */
export class ToolpathSdkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The encoded event is larger than the contract allows (`MAX_EVENT_BYTES`). */
export class EventTooLargeError extends ToolpathSdkError {
  constructor(
    readonly size: number,
    readonly limit: number,
    readonly eventId?: string,
  ) {
    super(`encoded event${eventId ? ` ${eventId}` : ''} is ${size} bytes, over the ${limit}-byte limit`);
  }
}

/** The event does not satisfy contract v1; `issues` names each offending field. */
export class InvalidEventError extends ToolpathSdkError {
  constructor(
    readonly issues: FieldIssue[],
    readonly eventId?: string,
  ) {
    super(`invalid tool event: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** `publish()` was called after `close()`. */
export class PublisherClosedError extends ToolpathSdkError {
  constructor() {
    super('the event publisher is closed');
  }
}

/** Why an accepted event was given up on. */
export type DropReason = 'buffer_full' | 'retries_exhausted' | 'closed';

/**
 * Reported through `onError` when an event is dropped. Buffer-full drops are reported once per
 * streak (the first drop after the buffer last had room), not once per event.
 */
export class EventDroppedError extends ToolpathSdkError {
  constructor(
    readonly reason: DropReason,
    readonly eventId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `flush()` did not see every queued event settle in time. */
export class FlushTimeoutError extends ToolpathSdkError {
  constructor(
    readonly timeoutMs: number,
    readonly remaining: number,
  ) {
    super(`flush timed out after ${timeoutMs} ms with ${remaining} event(s) still unacknowledged`);
  }
}
