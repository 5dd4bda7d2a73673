import { FilterFailure, isPlainObject, toText } from './values';

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
  }
}
