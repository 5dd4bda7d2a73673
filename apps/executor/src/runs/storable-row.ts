import { escapeNul, findUnstorable, storableOrJsonText, storableOrJsonTextObject } from '@toolpath/contracts';
import type { WorkflowDefinition } from '@toolpath/workflow';
import type { ExecutionDocument } from './execution.repository';

/**
 * How much of a run's final row to give up after its writes kept failing (RunFinalizer):
 * - `text`: values the databases refuse (a NUL, an array in an array, a `$` or dotted key — tool
 *   results, mostly) are kept as their exact JSON text (`unstorableJson` for objects), and NULs in
 *   messages are written as `\u0000`;
 * - `minimal`: the row keeps the run's status, steps (status, attempts, times) and errors only.
 * The row's `error` says what was done and why, so a reader knows the row is not the whole run.
 */
export type StorableLevel = 'text' | 'minimal';

export function storableRow(doc: ExecutionDocument, level: StorableLevel, failures: number, lastError: string): ExecutionDocument {
  const changed: string[] = [];
  const kept = <T>(value: T, where: string, convert: (v: T) => unknown): T => {
    const out = convert(value);
    if (out !== value) changed.push(where);
    return out as T;
  };
  const minimal = level === 'minimal';
  const steps = doc.steps.map((step) => {
    const { result, ...rest } = step;
    const out = { ...rest, ...(step.error !== undefined ? { error: escapeNul(step.error) } : {}) };
    if (result === undefined) return out;
    if (minimal) {
      changed.push(`steps.${step.id}.result`);
      return out;
    }
    return { ...out, result: kept(result, `steps.${step.id}.result`, storableOrJsonText) };
  });
  let input = doc.input;
  if (minimal) {
    if (Object.keys(input).length > 0) changed.push('input');
    input = {};
  } else {
    input = kept(input, 'input', storableOrJsonTextObject);
  }
  let definition = doc.definition;
  if (findUnstorable(definition) !== undefined) {
    // Validated at the entry, so this is unexpected; the steps' shape is what reads need.
    changed.push('definition');
    definition = { ...definition, steps: definition.steps.map((s) => ({ id: s.id, tool: s.tool, parameters: {}, ...(s.dependsOn ? { dependsOn: s.dependsOn } : {}) })) } as WorkflowDefinition;
  }
  const base = { ...doc, name: escapeNul(doc.name), input, steps, definition };
  if (changed.length === 0 && !minimal) return base.error === undefined ? base : { ...base, error: escapeNul(base.error) };
  const what = minimal
    ? `stored without ${changed.length > 0 ? changed.join(', ') : 'its values'}`
    : `${changed.join(', ')} kept as JSON text`;
  const note = `the run's row could not be stored as it was after ${failures} tries (${escapeNul(lastError).slice(0, 500)}): ${what}`;
  return { ...base, error: doc.error !== undefined ? `${escapeNul(doc.error)}; ${note}` : note };
}
