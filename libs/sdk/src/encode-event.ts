import type { JetStreamClient, PubAck } from 'nats';
import {
  DEFAULT_SUBJECT_PREFIX,
  MAX_EVENT_BYTES,
  SPEC_VERSION,
  eventKey,
  eventsSubject,
  validateToolEvent,
  type ToolEvent,
  type ToolEventInput,
} from '@toolpath/contracts';
import { EventTooLargeError, InvalidEventError } from './errors';
import { newEventId } from './event-id';
import { isCertainlyValidEvent } from './fast-event-check';
import { toJsonSafe } from './safe-json';

/** What `buildEvent` fills in when the input leaves it out. */
export interface EventDefaults {
  /** The producer's tenant; an input naming another tenant is refused. */
  tenantId: string;
  /** The publishing service, used when the input has no `source`. */
  source?: string;
}

/** An event ready for JetStream: where it goes, its bytes, and its de-duplication id. */
export interface EncodedEvent {
  subject: string;
  data: Uint8Array;
  /** `<tenantId>:<eventId>`, sent as `Nats-Msg-Id`. */
  msgId: string;
  eventId: string;
  tenantId: string;
}

/**
 * Completes an input into a v1 event: `specVersion`, a new `eventId` (UUIDv7) unless given, and the
 * tenant and source from `defaults`. Throws `InvalidEventError` if the input names another tenant.
 * It does not validate the rest; `encodeEvent` does.
 */
export function buildEvent(input: ToolEventInput, defaults: EventDefaults): ToolEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidEventError([{ field: '(root)', message: 'event must be an object' }]);
  }
  if (input.tenantId !== undefined && input.tenantId !== defaults.tenantId) {
    throw new InvalidEventError(
      [{ field: 'tenantId', message: `must be this producer's tenant "${defaults.tenantId}" or left out` }],
      input.eventId,
    );
  }
  if (input.specVersion !== undefined && input.specVersion !== SPEC_VERSION) {
    throw new InvalidEventError(
      [{ field: 'specVersion', message: `unsupported specVersion ${JSON.stringify(input.specVersion)}; this SDK speaks "${SPEC_VERSION}"` }],
      input.eventId,
    );
  }
  // Not `{ ...input, specVersion, ... }`: V8 turns a spread followed by more properties into a
  // slow dictionary-mode object, which made building and validating an event several times slower.
  const event = { specVersion: SPEC_VERSION, eventId: '', tenantId: defaults.tenantId } as ToolEvent;
  Object.assign(event, input);
  event.specVersion = SPEC_VERSION;
  event.eventId = input.eventId ?? newEventId();
  event.tenantId = defaults.tenantId;
  if (event.source === undefined && defaults.source !== undefined) event.source = defaults.source;
  return event;
}

/**
 * Validates and serialises an event for `<prefix>.events.<tenantId>`. This is the one place events
 * are encoded (the SDK and the gateway both use it). Throws `InvalidEventError` with the field
 * issues, or `EventTooLargeError` when the bytes exceed `MAX_EVENT_BYTES`. Values JSON cannot hold
 * (BigInt, circular references) are replaced, never thrown on.
 */
export function encodeEvent(event: ToolEvent, prefix: string = DEFAULT_SUBJECT_PREFIX): EncodedEvent {
  if (!isCertainlyValidEvent(event as unknown as Record<string, unknown>)) {
    const checked = validateToolEvent(event);
    if (!checked.ok) {
      const eventId = typeof event?.eventId === 'string' ? event.eventId : undefined;
      throw new InvalidEventError(checked.issues, eventId);
    }
  }
  const json = toJsonSafe(event);
  // A UTF-8 encoding is never shorter than the string's UTF-16 length, so this skips the copy.
  if (json.length > MAX_EVENT_BYTES) {
    throw new EventTooLargeError(Buffer.byteLength(json, 'utf8'), MAX_EVENT_BYTES, event.eventId);
  }
  const data = Buffer.from(json, 'utf8');
  const msgId = eventKey(event.tenantId, event.eventId);
  // The server counts the header block against max_payload too, and closes the connection of a
  // client that exceeds it, so the limit applies to what actually goes on the wire.
  const wireBytes = data.length + headerBlockBytes(msgId);
  if (wireBytes > MAX_EVENT_BYTES) throw new EventTooLargeError(wireBytes, MAX_EVENT_BYTES, event.eventId);
  return {
    subject: eventsSubject(prefix, event.tenantId),
    data,
    msgId,
    eventId: event.eventId,
    tenantId: event.tenantId,
  };
}

/** Size of the `NATS/1.0` header block carrying `Nats-Msg-Id`, as nats.js encodes it. */
function headerBlockBytes(msgId: string): number {
  return 'NATS/1.0\r\nNats-Msg-Id: \r\n\r\n'.length + Buffer.byteLength(msgId);
}

/** Options of `publishEncoded`. */
export interface PublishEncodedOptions {
  /** How long to wait for the stream's acknowledgement. */
  timeoutMs?: number;
}

/**
 * Publishes an encoded event to JetStream and resolves with the stream's ack. The `msgID` option
 * makes nats.js send the `Nats-Msg-Id: <tenantId>:<eventId>` header, so the stream drops a
 * duplicate inside its window (the ack then has `duplicate: true`).
 */
export function publishEncoded(js: JetStreamClient, encoded: EncodedEvent, opts: PublishEncodedOptions = {}): Promise<PubAck> {
  return js.publish(encoded.subject, encoded.data, { msgID: encoded.msgId, timeout: opts.timeoutMs ?? 5000 });
}
