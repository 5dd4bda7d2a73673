import { checkEventsSubject, nestingWithin, timestampToMillis, validateToolEvent, type ToolEvent } from '@toolpath/contracts';
import type { StoredToolEvent } from '@toolpath/event-store';
import type { MiningEvent } from '@toolpath/mining';

export interface StreamMessage {
  data: Uint8Array;
  subject: string;
  streamSeq: number;
  /** When the stream stored it (epoch ms, `JsMsg.info.timestampNanos`): the arrival clock sessions close on. */
  arrivedAt?: number;
}

export type DecodedStreamEvent = { ok: true; event: MiningEvent } | { ok: false; tenantId: string | null; reason: string };

/**
 * One stream message as mining needs it, or why it cannot be mined. The recorder dead-letters
 * the same invalid messages with their bytes, so here they are only skipped and counted.
 */
export function decodeStreamEvent(msg: StreamMessage, subjectPrefix: string, maxResultBytes: number): DecodedStreamEvent {
  const subject = checkEventsSubject(subjectPrefix, msg.subject);
  const tenantId = subject.tenantId;
  // The tenant comes from the subject alone: one that is not exactly <prefix>.events.<tenant> is skipped.
  if (!subject.ok) return { ok: false, tenantId, reason: 'invalid_subject' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8'));
  } catch {
    return { ok: false, tenantId, reason: 'malformed_json' };
  }
  const checked = validateToolEvent(parsed);
  if (!checked.ok) return { ok: false, tenantId, reason: checked.reason };
  if (checked.event.tenantId !== tenantId) return { ok: false, tenantId, reason: 'tenant_mismatch' };
  // Only a message larger than the cap can carry a result larger than the cap.
  const result = msg.data.byteLength > maxResultBytes ? capResult(checked.event.result, maxResultBytes) : checked.event.result;
  return { ok: true, event: toMiningEvent(checked.event, msg.streamSeq, timestampToMillis(checked.event.startedAt), result, msg.arrivedAt) };
}

/**
 * A stored row (full rebuild) as mining needs it; a result the recorder cut is left out. The
 * recorder stores the stream's timestamp as `receivedAt`: the same arrival the stream gives.
 */
export function miningEventFromRow(row: StoredToolEvent, maxResultBytes: number): MiningEvent {
  const result = row.resultTruncated ? undefined : capResult(row.result, maxResultBytes);
  const arrivedAt = row.receivedAt instanceof Date ? row.receivedAt.getTime() : undefined;
  return toMiningEvent(row as unknown as ToolEvent, row.streamSeq ?? 0, row.startedAt.getTime(), result, arrivedAt);
}

/**
 * Longest duration counted: what a Date spans. The contract takes any finite duration, but sums
 * and means of a few near Number.MAX_VALUE would overflow to Infinity (answered as null).
 */
export const MAX_COUNTED_DURATION_MS = 8.64e15;

function toMiningEvent(e: ToolEvent, streamSeq: number, startedAt: number, result: unknown, arrivedAt: number | undefined): MiningEvent {
  const out: MiningEvent = {
    streamSeq,
    tenantId: e.tenantId,
    sessionId: e.sessionId,
    kind: e.kind,
    success: e.success,
    startedAt,
    durationMs: Math.min(e.durationMs, MAX_COUNTED_DURATION_MS),
  };
  if (arrivedAt !== undefined && Number.isFinite(arrivedAt)) out.arrivedAt = arrivedAt;
  if (e.tool !== undefined) out.tool = e.tool;
  if (e.parameters !== undefined) out.parameters = e.parameters;
  if (result !== undefined) out.result = result;
  if (e.error !== undefined) out.error = e.error;
  if (e.seq !== undefined) out.seq = e.seq;
  if (e.intent !== undefined) out.intent = e.intent;
  if (e.userId !== undefined) out.userId = e.userId;
  if (e.agentId !== undefined) out.agentId = e.agentId;
  return out;
}

/** Results beyond the cap are dropped rather than cut: a cut JSON text matches no later parameter. */
function capResult(result: unknown, maxBytes: number): unknown {
  if (result === undefined || result === null || typeof result !== 'object') {
    return typeof result === 'string' && Buffer.byteLength(result) > maxBytes ? undefined : result;
  }
  // A row stored before the contract bounded nesting may be too deep to serialise (or walk).
  if (!nestingWithin(result)) return undefined;
  const json = JSON.stringify(result);
  return json !== undefined && Buffer.byteLength(json) <= maxBytes ? result : undefined;
}
