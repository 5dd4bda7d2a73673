import type { RejectedEvent, StoredToolEvent } from '@toolpath/event-store';

/** Rows leave the API as the v1 event that was published, plus the recorder's fields. */
export function eventView(row: StoredToolEvent): Record<string, unknown> {
  const { _id, startedAt, receivedAt, ...rest } = row;
  void _id;
  return { ...rest, startedAt: startedAt.toISOString(), receivedAt: receivedAt.toISOString() };
}

/** Enough of the raw bytes to see what was sent, without echoing a megabyte back. */
const RAW_PREVIEW_BYTES = 16 * 1024;

export function rejectedView(row: RejectedEvent): Record<string, unknown> {
  // The driver reads BinData back as a Binary, whose bytes are in `.buffer`.
  const stored = row.raw as unknown as Uint8Array | { buffer: Uint8Array };
  const raw = Buffer.from(stored instanceof Uint8Array ? stored : stored.buffer);
  return {
    id: row._id,
    tenantId: row.tenantId,
    subject: row.subject,
    reason: row.reason,
    field: row.field,
    message: row.message,
    issues: row.issues,
    eventId: row.eventId,
    receivedAt: row.receivedAt.toISOString(),
    streamSeq: row.streamSeq,
    // Who gave up on it: the recorder at the door, or a consumer that could not process it.
    consumer: row.consumer ?? 'recorder',
    ...(row.attempts !== undefined ? { attempts: row.attempts } : {}),
    rawBytes: raw.length,
    rawPreview: raw.subarray(0, RAW_PREVIEW_BYTES).toString('utf8'),
    rawTruncated: raw.length > RAW_PREVIEW_BYTES,
  };
}
