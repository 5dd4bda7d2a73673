/** Opaque keyset cursor: the sort key and `_id` of the last row of a page. */
export interface KeysetPosition {
  t: number;
  id: string;
}

export function encodeCursor(pos: KeysetPosition): string {
  return Buffer.from(JSON.stringify(pos)).toString('base64url');
}

/** Throws `InvalidCursorError` for anything that is not a cursor we issued. */
export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as KeysetPosition;
    if (typeof parsed.t === 'number' && Number.isFinite(parsed.t) && typeof parsed.id === 'string') return parsed;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  readonly field = 'cursor';
  constructor() {
    super('cursor is not one this API issued');
    this.name = 'InvalidCursorError';
  }
}
