/**
 * Bounds on what a workflow definition and a template may be. They exist so that validation,
 * scheduling and rendering stay linear and cannot be pushed into a stack overflow or a
 * quadratic walk by hostile input (definitions come from users and LLMs).
 */

/** Most steps in one definition; checked before any per-step or pairwise work. */
export const MAX_STEPS = 500;
/** Deepest nesting inside a step's `parameters` (and `compensate.parameters`, `variables`). */
export const MAX_PARAMETERS_DEPTH = 32;
/** Largest definition, measured as its UTF-8 JSON encoding. */
export const MAX_DEFINITION_BYTES = 256 * 1024;
/** Longest expression between `{{` and `}}` (or a whole condition). */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** Deepest expression tree (and parser nesting): evaluation recurses at most this deep. */
export const MAX_AST_DEPTH = 64;
/** Deepest object/array that `renderParameters` walks. */
export const MAX_RENDER_DEPTH = 64;

export const MAX_RETRY_ATTEMPTS = 20;
/** Longest retry delay (one hour). */
export const MAX_RETRY_DELAY_MS = 3_600_000;
/** Longest step timeout (one day). */
export const MAX_STEP_TIMEOUT_MS = 86_400_000;
/** Validation stops collecting after this many errors and says so. */
export const MAX_REPORTED_ERRORS = 100;

/** A step id is also a template path segment and a job-id component, so its alphabet is small. */
export const STEP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Keys that reach an object's prototype chain. Refused as parameter keys and as template names
 * (`JSON.parse` turns `"__proto__"` into an own key, so the check is on the raw input).
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}
