/**
 * What a user payload (event parameters and results, run inputs, workflow parameters) may hold so
 * that every supported database stores it and reads it back unchanged. JSON allows more than the
 * Mongo wire protocol's servers keep:
 * - FerretDB on PostgreSQL refuses a NUL character in a string or a key, and an array directly
 *   inside an array;
 * - FerretDB and MongoDB refuse keys starting with `$` or containing `.` (MongoDB in some
 *   positions, FerretDB everywhere);
 * - a `__proto__` key survives the database but not the JavaScript that copies the value by
 *   assignment (zod's records among it): it would vanish silently.
 * Such payloads are refused where they enter, naming the field, rather than accepted and lost.
 */

/** One value the databases cannot keep: where (relative to the checked value) and why. */
export interface UnstorableValue {
  path: Array<string | number>;
  message: string;
}

/** Containers visited at most: more than any payload under the size limits holds. */
const MAX_STORABLE_CHECK_NODES = 1_000_000;

const NUL = String.fromCharCode(0);

/** Why `key` cannot be stored as an object key, or undefined when it can. */
export function unstorableKeyReason(key: string): string | undefined {
  if (key.includes(NUL)) return 'a key must not contain a NUL character (\\u0000)';
  if (key.charCodeAt(0) === 36 /* $ */) return 'a key must not start with "$"';
  if (key.includes('.')) return 'a key must not contain "."';
  if (key === '__proto__') return '"__proto__" is not allowed as a key';
  return undefined;
}

/**
 * The first thing in `value` that cannot be stored exactly (see above), or undefined. Iterative
 * (any depth is safe: depth limits are checked separately) and bounded in work. Only own
 * enumerable keys are looked at, as JSON would serialise them.
 */
export function findUnstorable(value: unknown): UnstorableValue | undefined {
  if (typeof value === 'string') {
    return value.includes(NUL) ? { path: [], message: 'a string must not contain a NUL character (\\u0000)' } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  // The common case (nothing to refuse) costs a fraction of serialising the value; only a value
  // that fails it is walked again, keeping paths, to name what is wrong.
  let quick = false;
  try {
    quick = quicklyStorable(value);
  } catch {
    // A getter threw: the careful walk reads each property on its own.
  }
  return quick ? undefined : locateUnstorable(value);
}

/** Deeper than this, the quick walk leaves the value to the careful one (a cycle looks endless). */
const QUICK_MAX_DEPTH = 256;

function storableKey(key: string): boolean {
  return key.charCodeAt(0) !== 36 && !key.includes('.') && key !== '__proto__' && !key.includes(NUL);
}

/**
 * True when `value` certainly holds nothing to refuse; false when it may (then the careful walk
 * decides). One array of (container, depth) pairs and `for...in`: no garbage per container.
 */
function quicklyStorable(value: object): boolean {
  const stack: unknown[] = [value, 0];
  let visited = 0;
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const v = stack.pop() as Record<string, unknown>;
    if (depth > QUICK_MAX_DEPTH || ++visited > MAX_STORABLE_CHECK_NODES) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === 'string') {
          if (item.includes(NUL)) return false;
        } else if (typeof item === 'object' && item !== null) {
          if (Array.isArray(item)) return false;
          stack.push(item, depth + 1);
        }
      }
    } else {
      for (const key in v) {
        if (!storableKey(key)) return false;
        const item = v[key];
        if (typeof item === 'string') {
          if (item.includes(NUL)) return false;
        } else if (typeof item === 'object' && item !== null) {
          stack.push(item, depth + 1);
        }
      }
    }
  }
  return true;
}

/** The careful walk: paths kept, each container once (shared and cyclic references), getters guarded. */
function locateUnstorable(value: object): UnstorableValue | undefined {
  // Parallel stacks: container, its parent's index in `nodes` (-1 for the root) and its key there.
  const nodes: object[] = [];
  const parents: number[] = [];
  const keys: Array<string | number> = [];
  // A key holding NUL is named with the NUL written as `\u0000`: the reason is stored too.
  const shown = (key: string | number) => (typeof key === 'string' ? escapeNul(key) : key);
  const pathTo = (index: number, last?: string | number): Array<string | number> => {
    const path: Array<string | number> = last === undefined ? [] : [shown(last)];
    for (let i = index; i > 0; i = parents[i]) path.push(shown(keys[i]));
    return path.reverse();
  };
  nodes.push(value);
  parents.push(-1);
  keys.push('');
  // Depth first over an explicit stack of indexes into the arrays above.
  const stack: number[] = [0];
  let visited = 0;
  const seen = new Set<object>();
  while (stack.length > 0) {
    const index = stack.pop() as number;
    const node = nodes[index];
    if (++visited > MAX_STORABLE_CHECK_NODES) return undefined;
    if (seen.has(node)) continue; // a shared or cyclic reference: its content is checked once
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === 'string') {
          if (item.includes(NUL)) return { path: pathTo(index, i), message: 'a string must not contain a NUL character (\\u0000)' };
        } else if (Array.isArray(item)) {
          return { path: pathTo(index, i), message: 'an array must not be directly inside an array (wrap it in an object)' };
        } else if (typeof item === 'object' && item !== null) {
          nodes.push(item);
          parents.push(index);
          keys.push(i);
          stack.push(nodes.length - 1);
        }
      }
      continue;
    }
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const keyProblem = unstorableKeyReason(key);
      if (keyProblem !== undefined) return { path: pathTo(index, key), message: keyProblem };
      let item: unknown;
      try {
        item = record[key];
      } catch {
        continue; // a throwing getter is no JSON value; whatever serialises it decides
      }
      if (typeof item === 'string') {
        if (item.includes(NUL)) return { path: pathTo(index, key), message: 'a string must not contain a NUL character (\\u0000)' };
      } else if (typeof item === 'object' && item !== null) {
        nodes.push(item);
        parents.push(index);
        keys.push(key);
        stack.push(nodes.length - 1);
      }
    }
  }
  return undefined;
}

/**
 * `value` itself when every server stores it exactly, else its JSON text: a string, which they
 * all store, and from which the value is read back unchanged. For values that cannot be refused
 * at an entry (a tool's result), so they are kept rather than lost.
 */
export function storableOrJsonText(value: unknown): unknown {
  return findUnstorable(value) === undefined ? value : JSON.stringify(value);
}

/** The key under which an object that could not be stored as is keeps its JSON text. */
export const UNSTORABLE_JSON_KEY = 'unstorableJson';

/** Like `storableOrJsonText` for a value that must stay an object: `{ unstorableJson: text }`. */
export function storableOrJsonTextObject(value: Record<string, unknown>): Record<string, unknown> {
  return findUnstorable(value) === undefined ? value : { [UNSTORABLE_JSON_KEY]: JSON.stringify(value) };
}

/** `text` with each NUL character written as the six characters `\u0000`. */
export function escapeNul(text: string): string {
  return text.includes(NUL) ? text.split(NUL).join('\\u0000') : text;
}
