/** The API's one page-cursor format (libs/contracts): the sort key and `_id` of a page's last row. */
export { decodeKeysetCursor as decodeCursor, encodeKeysetCursor as encodeCursor, InvalidCursorError, type KeysetPosition } from '@toolpath/contracts';

/** A cursor's sort value as a time: clamped to what a Date holds, so any cursor is a position. */
export function cursorTime(value: number): Date {
  return new Date(Math.max(-8.64e15, Math.min(8.64e15, Math.trunc(value))));
}
