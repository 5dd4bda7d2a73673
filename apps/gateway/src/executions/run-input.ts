import type { FieldIssue } from '@toolpath/contracts';
import type { WorkflowVariables } from '@toolpath/workflow';

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

function typeMatches(value: unknown, type: JsonType): boolean {
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
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

const KNOWN_TYPES = new Set<string>(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * The run's input with each declared property's `default` filled in where the caller gave no
 * value, so a workflow (say, an instantiated template) whose variables carry defaults runs with
 * `{}`. Defaults are copied, never shared between runs; the caller's object is not changed.
 */
export function withVariableDefaults(input: Record<string, unknown>, variables: WorkflowVariables | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  for (const [key, schema] of Object.entries(variables?.properties ?? {})) {
    if (out[key] !== undefined || schema === null || typeof schema !== 'object' || !Object.hasOwn(schema, 'default')) continue;
    out[key] = structuredClone(schema.default);
  }
  return out;
}

/**
 * A small check of a run's input against the workflow's `variables` schema: required keys and
 * each declared property's top-level `type` (and `enum`). Not a full JSON Schema validator, on
 * purpose: it catches the mistakes callers make, and the templates report a missing value anyway.
 */
export function checkRunInput(input: Record<string, unknown>, variables: WorkflowVariables | undefined, root = 'input'): FieldIssue[] {
  if (!variables) return [];
  const issues: FieldIssue[] = [];
  for (const key of variables.required ?? []) {
    if (!Object.hasOwn(input, key) || input[key] === undefined) issues.push({ field: `${root}.${key}`, message: 'is required by the workflow' });
  }
  for (const [key, schema] of Object.entries(variables.properties ?? {})) {
    if (!Object.hasOwn(input, key)) continue;
    const value = input[key];
    const declared = schema.type;
    const types = (Array.isArray(declared) ? declared : declared !== undefined ? [declared] : []).filter((t): t is JsonType => typeof t === 'string' && KNOWN_TYPES.has(t));
    if (types.length > 0 && !types.some((t) => typeMatches(value, t))) {
      issues.push({ field: `${root}.${key}`, message: `must be ${types.join(' or ')}` });
      continue;
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
      issues.push({ field: `${root}.${key}`, message: `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}` });
    }
  }
  return issues;
}
