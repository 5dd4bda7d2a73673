import { createHash } from 'node:crypto';

const MAX_48_BITS = 2 ** 48 - 1;

/**
 * The event id of an imported activity: the same file, case and position give the same id on
 * every import, so importing a file again adds nothing (the stream drops the repeated
 * `Nats-Msg-Id`, the recorder the repeated `_id`). It is laid out as a UUIDv7 whose time is the
 * activity's own time and whose other 74 bits come from SHA-256 of (source, case, position): ids
 * of one log sort by event time, which keeps the recorder's inserts clustered as the SDK's are.
 */
export function importEventId(sourceId: string, caseId: string, position: number | 'end', timeMs: number): string {
  const digest = createHash('sha256').update(`${sourceId}\u0000${caseId}\u0000${position}`).digest('hex');
  const ms = Math.min(Math.max(0, Math.floor(timeMs)), MAX_48_BITS);
  const t = ms.toString(16).padStart(12, '0');
  const variant = ((parseInt(digest[3], 16) & 0x3) | 0x8).toString(16);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${digest.slice(0, 3)}-${variant}${digest.slice(4, 7)}-${digest.slice(7, 19)}`;
}
