import { randomFillSync } from 'node:crypto';

/*
 * UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, then a 12-bit counter (method 1), then 62
 * random bits. Ids from one process sort in creation order, and ids from all producers sort
 * roughly by time, which keeps the recorder's `_id = <tenant>:<eventId>` inserts close to the end
 * of the index instead of scattered across it.
 */

const BYTES_PER_ID = 9;
const pool = Buffer.alloc(BYTES_PER_ID * 512);
let poolOffset = pool.length;
/** `7xxx`: the version nibble and the counter, as hex. */
const VERSION_COUNTER: string[] = Array.from({ length: 4096 }, (_, i) => `7${i.toString(16).padStart(3, '0')}`);
const VARIANT = ['8', '9', 'a', 'b'];

let lastMs = -1;
let counter = 0;
/** `tttttttt-tttt-` for `lastMs`, rebuilt only when the millisecond changes. */
let timePrefix = '';

/** A new time-ordered event id (UUIDv7); strictly increasing within this process. */
export function newEventId(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += BYTES_PER_ID;

  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // Start in the lower half of the 12-bit range so a burst rarely overflows it.
    counter = pool[o] << 3;
    timePrefix = stampPrefix(lastMs);
  } else if (++counter > 0xfff) {
    // Borrow the next millisecond rather than repeat an id; the clock catches up shortly.
    lastMs++;
    counter = 0;
    timePrefix = stampPrefix(lastMs);
  }
  // One native call gives a flat string (cheaper to serialise later than many concatenations).
  const random = pool.toString('hex', o + 1, o + 9);
  return `${timePrefix}${VERSION_COUNTER[counter]}-${VARIANT[pool[o] & 3]}${random.slice(0, 3)}-${random.slice(3, 15)}`;
}

function stampPrefix(ms: number): string {
  const t = ms.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-`;
}
