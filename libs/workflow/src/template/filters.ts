import { isForbiddenKey } from '../limits';
import { deepEqual, FilterFailure, isPlainObject, readOwn, toText } from './values';

/** Filters a template may apply with `value | name(args)`; anything else is a parse error. */
export const FILTER_ARITY = {
  default: [1, 1],
  json: [0, 0],
  length: [0, 0],
  lower: [0, 0],
  upper: [0, 0],
  string: [0, 0],
  number: [0, 0],
  trim: [0, 0],
  join: [0, 1],
  first: [0, 0],
  last: [0, 0],
  keys: [0, 0],
  fromjson: [0, 0],
  find: [2, 2],
} as const satisfies Record<string, readonly [number, number]>;

export type FilterName = keyof typeof FILTER_ARITY;

export function isFilterName(name: string): name is FilterName {
  return Object.prototype.hasOwnProperty.call(FILTER_ARITY, name);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function wrongType(filter: string, value: unknown, expected: string): FilterFailure {
  return new FilterFailure('type_error', `filter "${filter}" expects ${expected}, got ${kind(value)}`);
}

/**
 * Applies every filter but `default`, which the evaluator handles because it must see a
 * missing input rather than a value. Returns a FilterFailure instead of throwing so that the
 * evaluator can attach the expression and position.
 */
export function applyFilter(name: Exclude<FilterName, 'default'>, value: unknown, args: unknown[]): unknown {
  switch (name) {
    case 'json':
      return toText(value, true);
    case 'string':
      return toText(value, false);
    case 'length':
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (isPlainObject(value)) return Object.keys(value).length;
      return wrongType(name, value, 'a string, array or object');
    case 'lower':
    case 'upper':
    case 'trim':
      if (typeof value !== 'string') return wrongType(name, value, 'a string');
      return name === 'lower' ? value.toLowerCase() : name === 'upper' ? value.toUpperCase() : value.trim();
    case 'number': {
      if (typeof value === 'number') return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'string' && value.trim() !== '') {
        const n = Number(value.trim());
        if (Number.isFinite(n)) return n;
      }
      return new FilterFailure('type_error', `filter "number" cannot convert ${JSON.stringify(toText(value, false)).slice(0, 60)} to a number`);
    }
    case 'join': {
      if (!Array.isArray(value)) return wrongType(name, value, 'an array');
      const sep = args.length > 0 ? args[0] : ',';
      if (typeof sep !== 'string') return new FilterFailure('type_error', 'filter "join" expects a string separator');
      const parts: string[] = [];
      for (const item of value) {
        const text = toText(item, false);
        if (text instanceof FilterFailure) return text;
        parts.push(text);
      }
      return parts.join(sep);
    }
    case 'first':
    case 'last': {
      if (typeof value !== 'string' && !Array.isArray(value)) return wrongType(name, value, 'an array or string');
      if (value.length === 0) return new FilterFailure('missing_value', `filter "${name}" of an empty ${kind(value)}`);
      const item = name === 'first' ? value[0] : value[value.length - 1];
      return item === undefined ? new FilterFailure('missing_value', `filter "${name}" found a hole`) : item;
    }
    case 'keys':
      if (!isPlainObject(value)) return wrongType(name, value, 'an object');
      return Object.keys(value);
    case 'fromjson':
      return fromJson(value);
    case 'find':
      return findByField(value, args[0], args[1]);
  }
}

/** Longest JSON text `fromjson` parses (a step result is capped far below this by the executor). */
export const MAX_FROMJSON_CHARS = 8 * 1024 * 1024;

/**
 * JSON text to its value, so that a tool returning JSON as a string can be read by path:
 * `(steps.s1.result | fromjson).order.id`. A value that is not a string is returned as it is
 * (the same template then works whether a tool's result arrives as text or already parsed).
 */
function fromJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.length > MAX_FROMJSON_CHARS) return new FilterFailure('type_error', `filter "fromjson": the text is longer than ${MAX_FROMJSON_CHARS} characters`);
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    return new FilterFailure('type_error', `filter "fromjson": not JSON text (${(err as Error).message.slice(0, 80)})`);
  }
}

/**
 * The first element of an array (or value of an object used as a map) that is an object whose
 * own field `field` equals `expected` (structurally): `items | find('sku', input.sku)` selects by
 * key what an index (`items[2]`) would select by position.
 */
function findByField(value: unknown, field: unknown, expected: unknown): unknown {
  if (typeof field !== 'string' && typeof field !== 'number') return new FilterFailure('type_error', 'filter "find" expects a field name (string or index) as its first argument');
  if (typeof field === 'string' && isForbiddenKey(field)) return new FilterFailure('type_error', `filter "find": "${field}" is not allowed as a field name`);
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (isPlainObject(value)) items = Object.values(value);
  else return wrongType('find', value, 'an array or object');
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const v = readOwn(item, field);
    if (typeof v === 'symbol') continue;
    const equal = deepEqual(v, expected);
    if (equal instanceof FilterFailure) return equal;
    if (equal) return item;
  }
  const shown = toText(expected, true);
  return new FilterFailure('missing_value', `filter "find": no element whose ${String(field)} equals ${typeof shown === 'string' ? shown.slice(0, 80) : kind(expected)}`);
}
