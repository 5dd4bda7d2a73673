import { z } from 'zod';

/**
 * A page cursor: the sort value and the id of the last item of a page, as `<number>~<base64url
 * id>`. Every string of this shape is a position to resume from, so the format the API documents
 * is exactly the set of cursors it accepts: a cursor never "expires", and one not issued by the
 * API only starts the page somewhere else. The number is written as JavaScript prints it.
 */
export const KEYSET_CURSOR_PATTERN = /^-?\d{1,21}(\.\d{1,20})?(e[+-]?\d{1,3})?~[A-Za-z0-9_-]{0,1400}$/;

export const KeysetCursorSchema = z
  .string()
  .max(1500)
  .regex(KEYSET_CURSOR_PATTERN, 'not a cursor of this API: pass nextCursor as it was returned')
  .describe('`nextCursor` of the previous page, as it was returned');

export interface KeysetPosition {
  /** The sort value of the last item (a time in ms, a count, a score). */
  value: number;
  id: string;
}

export class InvalidCursorError extends Error {
  readonly field = 'cursor';
  constructor() {
    super('cursor is not one this API issued (pass nextCursor as it was returned)');
    this.name = 'InvalidCursorError';
  }
}

export function encodeKeysetCursor(value: number, id: string): string {
  return `${String(value)}~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** The position of a cursor of the documented shape; `InvalidCursorError` for any other string. */
export function decodeKeysetCursor(cursor: string): KeysetPosition {
  if (!KEYSET_CURSOR_PATTERN.test(cursor)) throw new InvalidCursorError();
  const at = cursor.indexOf('~');
  // A mantissa with a large exponent prints as Infinity: past every item, still a position.
  const value = Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, Number(cursor.slice(0, at))));
  return { value, id: Buffer.from(cursor.slice(at + 1), 'base64url').toString('utf8') };
}
