import { z } from 'zod';

/** Non-empty text up to `max` characters. */
export const text = (max: number) => z.string().min(1).max(max);

/** `true` or `false`, as a boolean. */
export const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * A time: epoch milliseconds (up to 14 digits: years before 5138), or ISO-8601 (a date, or a date
 * and time with an optional offset). The pattern is the whole rule, so every time it documents is
 * one the API takes, and every time it takes prints as an ISO-8601 date-time again.
 */
export const TIME_PATTERN =
  /^(\d{1,14}|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?)$/;

/** A time parameter (see `TIME_PATTERN`), as epoch milliseconds. */
export const timeParam = z
  .string()
  .regex(TIME_PATTERN, 'must be epoch milliseconds or ISO-8601 (2026-01-31 or 2026-01-31T09:30:00Z)')
  .transform((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(isoForm(v))));

/**
 * The pattern's forms written as ECMAScript's date-time format, which Date.parse reads the same
 * everywhere (its fallback parser misreads some others, e.g. a year below 100 after a space).
 */
function isoForm(v: string): string {
  return v
    .replace(/^(\d{4}-\d{2}-\d{2})[Tt ]/, '$1T')
    .replace(/z$/, 'Z')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

/**
 * Tool names as a repeated parameter (`?tools=a&tools=b`), each value possibly a comma-separated
 * list (`?tools=a,b`): the names in order, blanks dropped. Of more than `keep` names, the last
 * `keep` are used (the most recent calls say most about what comes next).
 */
export const toolListParam = (keep: number) =>
  z
    .union([z.string().max(200), z.array(z.string().max(200)).max(keep)])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .slice(-keep),
    );

/**
 * The JSON Schema a parameter is documented with when zod cannot derive it from the parameter's
 * input side (a number written in a query string is text to zod, a number to the document).
 * `openapiSchema` (docs/zod-openapi.ts) reads it.
 */
export const documentedAs = new WeakMap<object, Record<string, unknown>>();

const INTEGER_TEXT = /^-?\d{1,16}$/;
const NUMBER_TEXT = /^-?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})([eE][-+]?\d{1,3})?$/;

/** An integer query or path parameter in [min, max]: only digits (an empty or `1.5` value is a 400, never 0 or 1). */
export function intParam(min: number, max: number) {
  const schema = z
    .string()
    .regex(INTEGER_TEXT, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
  documentedAs.set(schema, { type: 'integer', minimum: min, maximum: max });
  return schema;
}

/** A number query parameter in [min, max], written as JSON writes numbers (an empty value is a 400, never 0). */
export function numberParam(min: number, max: number) {
  const schema = z
    .string()
    .regex(NUMBER_TEXT, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
  documentedAs.set(schema, { type: 'number', minimum: min, maximum: max });
  return schema;
}
