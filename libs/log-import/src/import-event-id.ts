import { createHash } from 'node:crypto';

const MAX_48_BITS = 2 ** 48 - 1;

/**
 * SHA-256 of (source, case), computed once per case; each activity's id is derived from it
 * cheaply. The first 128 bits as four signed 32-bit words: small integers take no heap of their
 * own, and every open case holds one.
 */
export interface CaseIdSeed {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
}

export function caseIdSeed(sourceId: string, caseId: string): CaseIdSeed {
  const digest = createHash('sha256').update(`${sourceId}\u0000${caseId}`).digest();
  return { w0: digest.readInt32BE(0), w1: digest.readInt32BE(4), w2: digest.readInt32BE(8), w3: digest.readInt32BE(12) };
}

/**
 * The event id of an imported activity: the same source (file), case and position give the same
 * id on every import, so importing a file again adds nothing (the stream drops the repeated
 * `Nats-Msg-Id`, the recorder the repeated `_id`).
 *
 * Laid out as a UUIDv7 whose time is the activity's own time (ids of one log sort by event time,
 * which keeps the recorder's inserts clustered, as the SDK's ids do) and whose other 74 bits mix
 * the case's SHA-256 with the position. The mix (murmur3's finaliser on each word) is a bijection
 * for a given case, so two positions of one case never share an id; hashing once per case rather
 * than once per activity made ids 4× cheaper. Changing this function changes every id, so an
 * import after the change would duplicate one before it: leave it as it is.
 */
export function activityEventId(seed: CaseIdSeed, position: number, timeMs: number): string {
  const a = fmix32((seed.w0 ^ position) >>> 0);
  const b = fmix32((seed.w1 + Math.imul(position, 0x9e3779b1)) >>> 0);
  const c = fmix32((seed.w2 ^ Math.imul(position, 0x85ebca6b)) >>> 0);
  const ms = Math.min(Math.max(0, Math.floor(timeMs)), MAX_48_BITS);
  const t = ms.toString(16).padStart(12, '0');
  const hexA = hex8(a);
  const hexB = hex8(b);
  const hexC = hex8(c);
  const variant = VARIANT[b >>> 30];
  return `${t.slice(0, 8)}-${t.slice(8)}-7${hexA.slice(0, 3)}-${variant}${hexA.slice(3, 6)}-${hexA.slice(6)}${hexB.slice(2)}${hexC.slice(0, 4)}`;
}

/** The id of a case's `session_end`: all hash (a UUIDv8), so it does not move when a fixed row changes the case's start. */
export function sessionEndEventId(seed: CaseIdSeed): string {
  const [w0, w1, w2, w3] = [seed.w0, seed.w1, seed.w2, seed.w3].map((w) => hex8(fmix32((w ^ 0x5e55e0d) >>> 0)));
  return `${w0}-${w1.slice(0, 4)}-8${w1.slice(4, 7)}-${VARIANT[parseInt(w2[0], 16) & 3]}${w2.slice(1, 4)}-${w2.slice(4)}${w3}`;
}

/** `activityEventId` / `sessionEndEventId` in one call (for tools and tests). */
export function importEventId(sourceId: string, caseId: string, position: number | 'end', timeMs = 0): string {
  const seed = caseIdSeed(sourceId, caseId);
  return position === 'end' ? sessionEndEventId(seed) : activityEventId(seed, position, timeMs);
}

const VARIANT = ['8', '9', 'a', 'b'];

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
