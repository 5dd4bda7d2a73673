import type { FieldIssue } from '@toolpath/contracts';
import { declaredJsonTypes, isJsonType, type WorkflowVariables } from '@toolpath/workflow';

/**
 * A small check of a run's input against the workflow's `variables` schema: required keys and
 * each declared property's top-level `type` (and `enum`). Not a full JSON Schema validator, on
 * purpose: it catches the mistakes callers make, and the templates report a missing value anyway.
 * Check the input as it will run, with the declared defaults applied (`applyInputDefaults`), so a
 * required variable with a default is not reported missing.
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
    const types = declaredJsonTypes(schema.type);
    if (types.length > 0 && !types.some((t) => isJsonType(value, t))) {
      issues.push({ field: `${root}.${key}`, message: `must be ${types.join(' or ')}` });
      continue;
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
      issues.push({ field: `${root}.${key}`, message: `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}` });
    }
  }
  return issues;
}
