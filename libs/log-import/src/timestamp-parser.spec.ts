import { createTimestampParser, parseOffset, TimestampFormatError } from './timestamp-parser';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('createTimestampParser (auto)', () => {
  const parse = createTimestampParser();

  it.each([
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00.123+02:00', '2026-03-01T08:00:00.123Z'],
    ['2026-03-01T10:00:00.123456789-0530', '2026-03-01T15:30:00.123Z'],
    ['2026-03-01 10:00:00', '2026-03-01T10:00:00.000Z'],
    ['2026/3/1 7:05', '2026-03-01T07:05:00.000Z'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    ['  2026-03-01T10:00:00Z  ', '2026-03-01T10:00:00.000Z'],
    ['1767225600000', '2026-01-01T00:00:00.000Z'],
    ['1767225600', '2026-01-01T00:00:00.000Z'],
    ['1767225600.5', '2026-01-01T00:00:00.500Z'],
    ['1960-06-01T00:00:00Z', '1960-06-01T00:00:00.000Z'],
  ])('reads %s', (raw, expected) => {
    expect(iso(parse(raw))).toBe(expected);
  });

  it.each(['', 'yesterday', '2026-02-30 10:00:00', '2026-13-01', '2026-03-01 24:00:00', '2026-03-01T10:61:00Z', '-5', '2026-03-01T10:00:00+25:00', '99999999999999999999'])(
    'refuses %j',
    (raw) => {
      expect(parse(raw)).toBeUndefined();
    },
  );

  it('reads times without a zone at the assumed offset', () => {
    const plus2 = createTimestampParser({ assumeOffsetMinutes: 120 });
    expect(iso(plus2('2026-03-01 10:00:00'))).toBe('2026-03-01T08:00:00.000Z');
    expect(iso(plus2('2026-03-01T10:00:00Z'))).toBe('2026-03-01T10:00:00.000Z');
  });
});

describe('createTimestampParser (explicit formats)', () => {
  it('epoch-ms reads small integers as milliseconds', () => {
    expect(createTimestampParser({ format: 'epoch-ms' })('1000')).toBe(1000);
    expect(createTimestampParser({ format: 'epoch-ms' })('2026-03-01')).toBeUndefined();
  });

  it('epoch-s reads seconds', () => {
    expect(createTimestampParser({ format: 'epoch-s' })('1000')).toBe(1_000_000);
  });

  it('a pattern names the field positions', () => {
    const parse = createTimestampParser({ format: 'DD.MM.YYYY HH:mm:ss' });
    expect(iso(parse('01.03.2026 10:00:05'))).toBe('2026-03-01T10:00:05.000Z');
    expect(parse('2026-03-01 10:00:05')).toBeUndefined();
    expect(parse('31.02.2026 10:00:05')).toBeUndefined();
    const withZone = createTimestampParser({ format: 'YYYY-MM-DD HH:mm:ss.SSS Z' });
    expect(iso(withZone('2026-03-01 10:00:05.25 +01:00'))).toBe('2026-03-01T09:00:05.250Z');
  });

  it('a pattern without a date is refused up front', () => {
    expect(() => createTimestampParser({ format: 'HH:mm' })).toThrow(TimestampFormatError);
  });
});

describe('parseOffset', () => {
  it.each([
    ['Z', 0],
    ['+02:00', 120],
    ['-0530', -330],
    ['+01', 60],
    ['+2', undefined],
    ['+19:00', undefined],
  ])('%s → %s', (text, minutes) => {
    expect(parseOffset(text)).toBe(minutes);
  });
});
