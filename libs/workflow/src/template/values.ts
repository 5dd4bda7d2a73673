/** An evaluation step failed; the evaluator turns it into a located TemplateError. */
export class FilterFailure {
  constructor(
    readonly code: 'type_error' | 'missing_value',
    readonly message: string,
  ) {}
}

/** Result of `readOwn` when the key is not an own enumerable data property. */
export const NOT_FOUND: unique symbol = Symbol('not found');
/** Result of `readOwn` when the container is an object but not a plain object or array. */
export const NOT_PLAIN: unique symbol = Symbol('not plain');

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const CANONICAL_INDEX = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Reads `container[key]` only when it is an own, enumerable data property of a plain object or
 * an array element: no prototype chain, no getters, no `length` of arrays or strings.
 */
export function readOwn(container: unknown, key: string | number): unknown {
  if (container === null || typeof container !== 'object') return NOT_FOUND;
  let name: string;
  if (Array.isArray(container)) {
    if (typeof key === 'number') {
      if (!Number.isInteger(key) || key < 0) return NOT_FOUND;
      name = String(key);
    } else {
      if (!CANONICAL_INDEX.test(key)) return NOT_FOUND;
      name = key;
    }
  } else if (isPlainObject(container)) {
    name = String(key);
  } else {
    return NOT_PLAIN;
  }
  const descriptor = Object.getOwnPropertyDescriptor(container, name);
  if (descriptor === undefined || !descriptor.enumerable || !('value' in descriptor)) return NOT_FOUND;
  return descriptor.value as unknown;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * How a value appears inside text: strings as they are (or JSON-quoted when `quoteStrings`),
 * everything else JSON-encoded (`null`, `3`, `true`, `{"a":1}`).
 */
export function toText(value: unknown, quoteStrings: boolean): string | FilterFailure {
  if (typeof value === 'string' && !quoteStrings) return value;
  try {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') return new FilterFailure('type_error', `a ${kindOf(value)} has no JSON form`);
    return text;
  } catch (err) {
    return new FilterFailure('type_error', `value cannot be encoded as JSON: ${(err as Error).message}`);
  }
}

/**
 * Falsy: `false`, `null`, `0`, `NaN`, `''`, `[]` and `{}` (empty collections are false, as in
 * Python and Jinja). Everything else is true.
 */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

const MAX_COMPARED_NODES = 1_000_000;

/** Structural equality of JSON values, without recursion (context values may be deep). */
export function deepEqual(a: unknown, b: unknown): boolean | FilterFailure {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  let visited = 0;
  while (stack.length > 0) {
    const [x, y] = stack.pop() as [unknown, unknown];
    if (++visited > MAX_COMPARED_NODES) return new FilterFailure('type_error', 'values are too large to compare');
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
      continue;
    }
    if (!isPlainObject(x) || !isPlainObject(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.prototype.hasOwnProperty.call(y, key)) return false;
      stack.push([x[key], y[key]]);
    }
  }
  return true;
}
