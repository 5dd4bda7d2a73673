/** Put in place of a value that refers back to one of its own ancestors. */
export const CIRCULAR_MARKER = '[Circular]';

/**
 * JSON text of `value` that never throws on what tool parameters and results commonly hold: a
 * BigInt becomes its decimal string, a circular reference becomes `CIRCULAR_MARKER`, and a field
 * whose `toJSON` or getter throws becomes `"[Unserializable: <message>]"` (only that top-level
 * field, the rest of the object is kept). Plain JSON, the usual case, takes the native fast path;
 * the replacer only runs after that fails.
 */
export function toJsonSafe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    // fall through to the tolerant passes
  }
  try {
    return JSON.stringify(value, tolerantReplacer()) ?? 'null';
  } catch (err) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return JSON.stringify(unserializableMarker(err));
    }
  }
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    let text: string | undefined;
    try {
      text = JSON.stringify((value as Record<string, unknown>)[key], tolerantReplacer());
    } catch (err) {
      text = JSON.stringify(unserializableMarker(err));
    }
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

function unserializableMarker(err: unknown): string {
  return `[Unserializable: ${err instanceof Error ? err.message : String(err)}]`;
}

function tolerantReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  // Objects on the path from the root to the value being written. Anything else seen twice is a
  // shared reference, which JSON can simply repeat.
  const ancestors: unknown[] = [];
  return function replace(this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return CIRCULAR_MARKER;
    ancestors.push(value);
    return value;
  };
}
