/**
 * Timestamps as process logs write them. `auto` accepts, per value: ISO 8601 (`2024-03-01T10:00:00Z`,
 * with or without offset and fraction, `T` or a space between date and time, `/` or `-` in the
 * date, date only), and integers as epoch time: milliseconds from 100 000 000 000 up, seconds below
 * (10-digit Unix times, which as milliseconds would all fall in 1970). A value without a zone is
 * read at `assumeOffsetMinutes` (default UTC). A pattern such as `DD.MM.YYYY HH:mm:ss` names the
 * positions of the fields explicitly.
 */
export type TimestampFormat = 'auto' | 'iso' | 'epoch-ms' | 'epoch-s' | (string & {});

export type TimestampParser = (raw: string) => number | undefined;

/** Smallest integer `auto` reads as milliseconds: 1973-03-03 in ms, year 5138 in seconds. */
const EPOCH_MS_THRESHOLD = 100_000_000_000;
/** Dates past year 9999 cannot be written as the 24-character ISO strings events carry. */
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** 0000-01-01T00:00:00Z (`Date.UTC` would read year 0 as 1900). */
const MIN_MS = -62_167_219_200_000;

const ISO_LIKE =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const INTEGER = /^-?\d+(?:\.\d+)?$/;

export interface TimestampParserOptions {
  format?: TimestampFormat;
  /** Offset of values written without a zone, in minutes east of UTC. Default 0. */
  assumeOffsetMinutes?: number;
}

export function createTimestampParser(opts: TimestampParserOptions = {}): TimestampParser {
  const format = opts.format ?? 'auto';
  const offset = opts.assumeOffsetMinutes ?? 0;
  switch (format) {
    case 'auto':
      return (raw) => {
        const text = raw.trim();
        if (INTEGER.test(text)) return epoch(Number(text), Number(text) < EPOCH_MS_THRESHOLD ? 1000 : 1);
        return isoLike(text, offset);
      };
    case 'iso':
      return (raw) => isoLike(raw.trim(), offset);
    case 'epoch-ms':
      return (raw) => (INTEGER.test(raw.trim()) ? epoch(Number(raw), 1) : undefined);
    case 'epoch-s':
      return (raw) => (INTEGER.test(raw.trim()) ? epoch(Number(raw), 1000) : undefined);
    default:
      return compilePattern(format, offset);
  }
}

/** Offsets as `Z`, `+02:00`, `-0530` or `+02` → minutes east of UTC; undefined if malformed. */
export function parseOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'z') return 0;
  const m = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? '0');
  if (hours > 18 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function epoch(value: number, scale: number): number | undefined {
  if (!Number.isFinite(value)) return undefined;
  const ms = Math.round(value * scale);
  return ms >= 0 && ms <= MAX_MS ? ms : undefined;
}

function isoLike(text: string, assumeOffset: number): number | undefined {
  const m = ISO_LIKE.exec(text);
  if (!m) return undefined;
  const offset = m[8] === undefined ? assumeOffset : parseOffset(m[8]);
  if (offset === undefined) return undefined;
  return fromFields(
    {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? '0'),
      minute: Number(m[5] ?? '0'),
      second: Number(m[6] ?? '0'),
      millis: fractionToMillis(m[7]),
    },
    offset,
  );
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
}

/** Builds the instant, refusing fields out of range (Feb 30, hour 24) instead of rolling them over. */
function fromFields(f: Fields, offsetMinutes: number): number | undefined {
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.hour > 23 || f.minute > 59 || f.second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(f.year, f.month - 1, f.day);
  if (date.getUTCMonth() !== f.month - 1 || date.getUTCDate() !== f.day) return undefined;
  date.setUTCHours(f.hour, f.minute, f.second, f.millis);
  const ms = date.getTime() - offsetMinutes * 60_000;
  return ms >= MIN_MS && ms <= MAX_MS ? ms : undefined;
}

function fractionToMillis(fraction: string | undefined): number {
  if (!fraction) return 0;
  return Math.floor(Number(`0.${fraction}`) * 1000 + 1e-6);
}

const PATTERN_TOKENS: Record<string, { regex: string; field: keyof Fields | 'offset' }> = {
  YYYY: { regex: '(\\d{4})', field: 'year' },
  MM: { regex: '(\\d{1,2})', field: 'month' },
  DD: { regex: '(\\d{1,2})', field: 'day' },
  HH: { regex: '(\\d{1,2})', field: 'hour' },
  mm: { regex: '(\\d{2})', field: 'minute' },
  ss: { regex: '(\\d{2})', field: 'second' },
  SSS: { regex: '(\\d{1,9})', field: 'millis' },
  Z: { regex: '(Z|z|[+-]\\d{2}(?::?\\d{2})?)', field: 'offset' },
};
const TOKEN_SPLIT = /(YYYY|SSS|MM|DD|HH|mm|ss|Z)/;

/** Thrown for a `--timestamp-format` that names no date fields. */
export class TimestampFormatError extends Error {}

function compilePattern(pattern: string, assumeOffset: number): TimestampParser {
  const fields: (keyof Fields | 'offset')[] = [];
  let regex = '^';
  for (const part of pattern.split(TOKEN_SPLIT)) {
    const token = PATTERN_TOKENS[part];
    if (token) {
      fields.push(token.field);
      regex += token.regex;
    } else {
      regex += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  if (!fields.includes('year') || !fields.includes('month') || !fields.includes('day')) {
    throw new TimestampFormatError(
      `timestamp format ${JSON.stringify(pattern)} must be auto, iso, epoch-ms, epoch-s or a pattern with YYYY, MM and DD (and optionally HH, mm, ss, SSS, Z)`,
    );
  }
  const compiled = new RegExp(`${regex}$`);
  return (raw) => {
    const m = compiled.exec(raw.trim());
    if (!m) return undefined;
    const f: Fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millis: 0 };
    let offset = assumeOffset;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      const text = m[i + 1];
      if (field === 'offset') {
        const parsed = parseOffset(text);
        if (parsed === undefined) return undefined;
        offset = parsed;
      } else if (field === 'millis') {
        f.millis = fractionToMillis(text);
      } else {
        f[field] = Number(text);
      }
    }
    return fromFields(f, offset);
  };
}
