import { isForbiddenKey } from './limits';
import type { WorkflowVariables } from './workflow-definition';

/** The JSON Schema `type` names the run-input checks understand; other names are not checked. */
export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

const JSON_TYPES: ReadonlySet<string> = new Set<JsonType>(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * Nesting followed when filling defaults. Definitions are validated to a smaller depth already;
 * this only bounds the walk for a caller that passes an unvalidated schema.
 */
const MAX_DEFAULTS_DEPTH = 64;

type Json = unknown;

/** The known type names a schema's `type` declares (a name or a list of names); [] for none. */
export function declaredJsonTypes(type: unknown): JsonType[] {
  const names = Array.isArray(type) ? type : type === undefined ? [] : [type];
  return names.filter((t): t is JsonType => typeof t === 'string' && JSON_TYPES.has(t));
}

/** Whether a value is of one JSON Schema type (`integer` is a whole number, `number` a finite one). */
export function isJsonType(value: Json, type: JsonType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
  }
}

/** Whether a value matches a schema's `type`: true when it declares no type this check knows. */
export function matchesDeclaredType(value: Json, type: unknown): boolean {
  const types = declaredJsonTypes(type);
  return types.length === 0 || types.some((t) => isJsonType(value, t));
}

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Properties a schema declares, when it declares them as an object of schemas. */
function propertiesOf(schema: Json): Record<string, Json> | undefined {
  if (!isPlainObject(schema)) return undefined;
  const props = Object.hasOwn(schema, 'properties') ? schema.properties : undefined;
  return isPlainObject(props) ? props : undefined;
}

const MISSING = Symbol('missing');

function setOwn(target: Record<string, Json>, key: string, value: Json): void {
  // A plain assignment of `__proto__` would change the object's prototype instead.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `value` (MISSING when absent) with the schema's defaults filled in, or MISSING. */
function fill(value: Json | typeof MISSING, schema: Json, depth: number): Json | typeof MISSING {
  let out = value;
  if (out === MISSING && isPlainObject(schema) && Object.hasOwn(schema, 'default') && schema.default !== undefined) out = structuredClone(schema.default);
  const props = propertiesOf(schema);
  if (!props || depth >= MAX_DEFAULTS_DEPTH) return out;
  if (out === MISSING) {
    // An absent object is created only when something inside it has a default to give.
    const built = fillObject({}, props, depth + 1);
    return Object.keys(built).length > 0 ? built : MISSING;
  }
  return isPlainObject(out) ? fillObject(out, props, depth + 1) : out;
}

function fillObject(given: Record<string, Json>, props: Record<string, Json>, depth: number): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const key of Object.keys(given)) setOwn(out, key, given[key]);
  for (const key of Object.keys(props)) {
    if (isForbiddenKey(key)) continue;
    const current = Object.hasOwn(given, key) && given[key] !== undefined ? given[key] : MISSING;
    const next = fill(current, props[key], depth);
    if (next !== MISSING) setOwn(out, key, next);
  }
  return out;
}

/**
 * A run's input with the `default` of each property the workflow's `variables` declare filled in
 * where the caller gave no value (absent or undefined; `null` is a value), at any depth the schema
 * declares `properties`: inside given objects, and an absent object is created when a property
 * below it has a default. Given values are never replaced; defaults are copied (runs never share
 * them); prototype keys are never written; neither the input nor the definition is changed.
 */
export function applyInputDefaults(definition: { variables?: WorkflowVariables }, input: Record<string, Json>): Record<string, Json> {
  const props = propertiesOf(definition.variables);
  if (!props) return fillObject(input, {}, 0);
  return fillObject(input, props, 0);
}
