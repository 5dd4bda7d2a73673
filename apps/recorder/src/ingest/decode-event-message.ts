import {
  RejectReason,
  eventKey,
  checkEventsSubject,
  timestampToMillis,
  validateToolEvent,
  type FieldIssue,
} from '@toolpath/contracts';
import type { RejectedEvent, StoredToolEvent } from '@toolpath/event-store';

export interface DecodeContext {
  subjectPrefix: string;
  stream: string;
  resultMaxBytes: number;
  receivedAt: Date;
}

export interface RawMessage {
  data: Uint8Array;
  subject: string;
  streamSeq: number;
  /** When the stream stored the message (its JetStream timestamp): stored as `receivedAt` when given. */
  receivedAt?: Date;
}

export type Decoded = { ok: true; row: StoredToolEvent } | { ok: false; rejected: RejectedEvent };

/**
 * Turns one stream message into the row to store, or into the dead letter that says why it
 * cannot be stored. Pure, so every rule of the contract is testable without a broker.
 */
export function decodeEventMessage(msg: RawMessage, ctx: DecodeContext): Decoded {
  const subject = checkEventsSubject(ctx.subjectPrefix, msg.subject);
  const subjectTenant = subject.tenantId;
  const reject = (reason: RejectReason, issues: FieldIssue[], eventId: string | null = null): Decoded => ({
    ok: false,
    rejected: rejection(msg, ctx, subjectTenant, reason, issues, eventId),
  });

  let parsed: unknown;
  let parseError: Error | undefined;
  try {
    parsed = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8'));
  } catch (err) {
    parseError = err as Error;
  }
  const eventIdGuess = typeof (parsed as { eventId?: unknown })?.eventId === 'string' ? (parsed as { eventId: string }).eventId : null;
  // First the subject: the tenant comes from it alone, and only from exactly <prefix>.events.<tenant>.
  if (!subject.ok) return reject(RejectReason.InvalidSubject, [{ field: '(subject)', message: subject.message }], eventIdGuess);
  if (parseError) return reject(RejectReason.MalformedJson, [{ field: '(root)', message: `not JSON: ${parseError.message}` }]);
  const checked = validateToolEvent(parsed);
  if (!checked.ok) return reject(checked.reason, checked.issues, eventIdGuess);
  const event = checked.event;
  if (event.tenantId !== subjectTenant) {
    return reject(
      RejectReason.TenantMismatch,
      [{ field: 'tenantId', message: `tenantId "${event.tenantId}" does not match the subject's tenant "${subjectTenant}"` }],
      event.eventId,
    );
  }

  const row: StoredToolEvent = {
    ...event,
    _id: eventKey(event.tenantId, event.eventId),
    startedAt: new Date(timestampToMillis(event.startedAt)),
    receivedAt: msg.receivedAt ?? ctx.receivedAt,
    streamSeq: msg.streamSeq,
  };
  // Only a message larger than the cap can hold a result larger than the cap: skip the re-encode otherwise.
  if (event.result !== undefined && msg.data.byteLength > ctx.resultMaxBytes) {
    const text = JSON.stringify(event.result);
    const bytes = Buffer.byteLength(text);
    if (bytes > ctx.resultMaxBytes) {
      row.result = utf8Head(text, ctx.resultMaxBytes);
      row.resultTruncated = true;
      row.resultBytes = bytes;
    }
  }
  return { ok: true, row };
}

/**
 * The longest prefix of `text` that fits in `maxBytes` of UTF-8. Cutting the bytes blindly could
 * split a character, which decodes to U+FFFD (3 bytes) and overshoots the cap.
 */
function utf8Head(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  let end = Math.min(maxBytes, bytes.length);
  // Step back while the first byte left out continues a character (10xxxxxx).
  while (end > 0 && end < bytes.length && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export function rejection(
  msg: RawMessage,
  ctx: DecodeContext,
  tenantId: string | null,
  reason: RejectReason,
  issues: FieldIssue[],
  eventId: string | null,
): RejectedEvent {
  // The producer's text (field names, ids, the database's message quoting them) may hold "\0",
  // which some servers cannot store; the raw bytes keep the original.
  const clean = issues.map((i) => ({ field: storable(i.field), message: storable(i.message) }));
  return {
    _id: `${ctx.stream}:${msg.streamSeq}`,
    tenantId,
    subject: msg.subject,
    reason,
    field: clean[0]?.field ?? null,
    message: clean.map((i) => `${i.field}: ${i.message}`).join('; '),
    issues: clean,
    eventId: eventId === null ? null : storable(eventId),
    raw: Buffer.from(msg.data),
    receivedAt: msg.receivedAt ?? ctx.receivedAt,
    streamSeq: msg.streamSeq,
  };
}

function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
