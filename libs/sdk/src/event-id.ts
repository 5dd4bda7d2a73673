import { randomFillSync } from 'node:crypto';

/*
 * UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, then a 12-bit counter (method 1), then 62
 * random bits. Ids from one process sort in creation order, and ids from all producers sort
 * roughly by time, which keeps the recorder's `_id = <tenant>:<eventId>` inserts close to the end
 * of the index instead of scattered across it.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const BYTES_PER_ID = 9;
const pool = Buffer.alloc(BYTES_PER_ID * 512);
let poolOffset = pool.length;

let lastMs = -1;
let counter = 0;

/** A new time-ordered event id (UUIDv7); strictly increasing within this process. */
export function newEventId(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += BYTES_PER_ID;

  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    // Start low in the 12-bit range so a burst inside one millisecond rarely overflows it.
    counter = pool[o + 8];
  } else if (++counter > 0xfff) {
    // Borrow the next millisecond rather than repeat an id; the clock catches up shortly.
    lastMs++;
    counter = 0;
  }
  ms = lastMs;

  const t = ms.toString(16).padStart(12, '0');
  return (
    t.slice(0, 8) + '-' + t.slice(8) + '-7' + counter.toString(16).padStart(3, '0') + '-' +
    HEX[0x80 | (pool[o] & 0x3f)] + HEX[pool[o + 1]] + '-' +
    HEX[pool[o + 2]] + HEX[pool[o + 3]] + HEX[pool[o + 4]] + HEX[pool[o + 5]] + HEX[pool[o + 6]] + HEX[pool[o + 7]]
  );
}
