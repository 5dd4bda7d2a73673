import { decodeKeysetCursor, encodeKeysetCursor, InvalidCursorError, KeysetCursorSchema } from './keyset-cursor';

describe('keyset cursor', () => {
  it.each([
    [1733443200123, 'ev_01HZX'],
    [0.8734512345678901, 'pat_ab12'],
    [-5, ''],
    [1e21, 'wf_ü-unicode ✓'],
    [1.5e-7, 'x'],
  ])('round-trips %p / %p, and what it encodes passes the documented schema', (value, id) => {
    const cursor = encodeKeysetCursor(value, id);
    expect(KeysetCursorSchema.safeParse(cursor).success).toBe(true);
    expect(decodeKeysetCursor(cursor)).toEqual({ value, id });
  });

  it('takes any string of the documented shape as a position (none is refused after the schema let it through)', () => {
    for (const s of ['0~', '9e999~AAAA', '-12.5e-3~_-_-', '1~a', '123456789012345678901.5~Zm9v']) {
      expect(KeysetCursorSchema.safeParse(s).success).toBe(true);
      const { value } = decodeKeysetCursor(s);
      expect(Number.isFinite(value)).toBe(true);
    }
  });

  it('refuses strings of another shape, naming the cursor', () => {
    for (const s of ['', 'null', 'eyJ0IjoxfQ', '1~a b', 'NaN~a', '1.~a']) {
      expect(KeysetCursorSchema.safeParse(s).success).toBe(false);
      expect(() => decodeKeysetCursor(s)).toThrow(InvalidCursorError);
    }
  });
});
