/**
 * Bounded copies and fingerprints of tool parameters and results. Events may carry huge or
 * deeply nested values; mining keeps a small copy (for examples and inferred literals) and a
 * fingerprint of the whole value (for equality), and neither walk can overflow the stack.
 */

export interface CompactLimits {
  /** Deepest level copied; deeper values become a `{ "…": "<hash>" }` marker. */
  maxDepth: number;
  /** Longest string copied; a longer one keeps its head and the hash of the whole. */
  maxString: number;
  /** Most array items / object keys copied per level. */
  maxItems: number;
  /** Most nodes visited by one fingerprint (beyond, the hash covers the visited part and the size). */
  maxHashNodes: number;
}

export const DEFAULT_COMPACT_LIMITS: CompactLimits = Object.freeze({ maxDepth: 6, maxString: 256, maxItems: 32, maxHashNodes: 20_000 });

/** Key of the marker object that stands for a value cut by the limits. */
export const TRUNCATED_KEY = '\u2026';

const FNV_OFFSET = 0x811c9dc5;

function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A 52-bit fingerprint of a JSON-like value: two FNV-1a lanes over a canonical walk (object
 * keys sorted), iterative, at most `maxHashNodes` nodes. Equal values give equal fingerprints;
 * different values collide with probability about 2^-52.
 */
export function fingerprint(value: unknown, limits: CompactLimits = DEFAULT_COMPACT_LIMITS): number {
  let a = FNV_OFFSET;
  let b = 0x9747b28c;
  const feed = (s: string): void => {
    a = mixString(a, s);
    b = mixString(b ^ 0x5bd1e995, s);
  };
  const stack: unknown[] = [value];
  let nodes = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++nodes > limits.maxHashNodes) {
      feed(`#cut${stack.length}`);
      break;
    }
    if (v === null || v === undefined) feed(v === null ? 'n' : 'u');
    else if (typeof v === 'string') feed(`s${v.length}:${v}`);
    else if (typeof v === 'number') feed(`d${v}`);
    else if (typeof v === 'boolean') feed(v ? 't' : 'f');
    else if (Array.isArray(v)) {
      feed(`[${v.length}`);
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v as object).sort();
      feed(`{${keys.length}`);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((v as Record<string, unknown>)[keys[i]]);
        stack.push(`\u0001${keys[i]}`);
      }
    } else feed(`?${typeof v}`);
  }
  return (a & 0xfffff) * 0x100000000 + b;
}

/** True for the marker `compactValue` leaves in place of a value it cut. */
export function isTruncatedMarker(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && TRUNCATED_KEY in v;
}

/** A bounded copy of a JSON-like value; what is cut is replaced by a marker carrying its fingerprint. */
export function compactValue(value: unknown, limits: CompactLimits = DEFAULT_COMPACT_LIMITS): unknown {
  return copy(value, 0, limits);
}

function marker(value: unknown, limits: CompactLimits): Record<string, string> {
  return { [TRUNCATED_KEY]: fingerprint(value, limits).toString(36) };
}

function copy(v: unknown, depth: number, limits: CompactLimits): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    if (v.length <= limits.maxString) return v;
    return `${v.slice(0, limits.maxString)}${TRUNCATED_KEY}#${fingerprint(v, limits).toString(36)}`;
  }
  if (typeof v !== 'object') return undefined;
  if (depth >= limits.maxDepth) return marker(v, limits);
  if (Array.isArray(v)) {
    if (v.length > limits.maxItems) return marker(v, limits);
    return v.map((x) => {
      const c = copy(x, depth + 1, limits);
      return c === undefined ? null : c;
    });
  }
  const keys = Object.keys(v as object);
  if (keys.length > limits.maxItems) return marker(v, limits);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    const c = copy((v as Record<string, unknown>)[k], depth + 1, limits);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** Longest JSON text parsed into a tree (a longer text stays a string and is cut like one). */
export const MAX_JSON_TEXT_CHARS = 1_000_000;
/** Deepest nesting of a JSON text that is parsed (a deeper one stays a string). */
export const MAX_JSON_TEXT_DEPTH = 256;

/**
 * The value of a string that is JSON text of an object or array (what the SDKs record when a tool
 * returns a string, as most agent tools do); undefined for anything else. Bounded: texts longer
 * than MAX_JSON_TEXT_CHARS or nested deeper than MAX_JSON_TEXT_DEPTH are not parsed (one linear
 * scan checks the depth before JSON.parse runs).
 */
export function parseJsonText(v: unknown): unknown {
  if (typeof v !== 'string' || v.length < 2 || v.length > MAX_JSON_TEXT_CHARS) return undefined;
  let start = 0;
  while (start < v.length && /\s/.test(v[start])) start++;
  const open = v[start];
  if (open !== '{' && open !== '[') return undefined;
  if (!withinJsonDepth(v, start, MAX_JSON_TEXT_DEPTH)) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function withinJsonDepth(text: string, from: number, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
}

/**
 * A bounded copy of a tool result. JSON text (a string holding an object or array) is parsed
 * first, so that a long JSON result keeps its fields as a tree instead of being cut to its first
 * characters; `jsonText` says so (a workflow then reads it through the `fromjson` filter).
 */
export function compactResult(result: unknown, limits: CompactLimits = DEFAULT_COMPACT_LIMITS): { value: unknown; jsonText: boolean } {
  const parsed = parseJsonText(result);
  if (parsed !== undefined) return { value: compactValue(parsed, limits), jsonText: true };
  return { value: compactValue(result, limits), jsonText: false };
}

/** Parameters as a plain object (anything else, e.g. an array or a string, is wrapped as `{ value }`). */
export function compactParameters(p: unknown, limits: CompactLimits = DEFAULT_COMPACT_LIMITS): Record<string, unknown> | undefined {
  if (p === undefined || p === null) return undefined;
  const c = compactValue(p, limits);
  if (typeof c === 'object' && c !== null && !Array.isArray(c)) return c as Record<string, unknown>;
  return { value: c };
}
