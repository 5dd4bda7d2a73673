/**
 * The builder's edits of a workflow definition, as pure functions (no React): each returns a new
 * definition and leaves the one given untouched, so the page can compare against what was loaded.
 *
 *   let d = addStep(definition, 'http.request');        // step "http-request" (or "http-request-2", …)
 *   d = connect(d, 'fetch', 'http-request');             // http-request.dependsOn gains "fetch"
 *   d = removeStep(d, 'fetch');                          // and every dependsOn/fallback naming it
 */
import type { ApiSchemas } from '@toolpath/api-client';

export type Definition = ApiSchemas['WorkflowDefinition'];
export type Step = Definition['steps'][number];
export type ValidationError = ApiSchemas['WorkflowValidationError'];

/** What the schema accepts as a step id (libs/workflow StepIdSchema). */
export const STEP_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A readable id from a tool name: `mcp:files/read` → `files-read`, unique among `taken`. */
export function uniqueStepId(tool: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const base =
    tool
      .replace(/^[a-z]+:/i, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'step';
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

export function addStep(d: Definition, tool: string): { definition: Definition; id: string } {
  const id = uniqueStepId(tool, d.steps.map((s) => s.id));
  return { definition: { ...d, steps: [...d.steps, { id, tool, parameters: {} }] }, id };
}

export function updateStep(d: Definition, id: string, patch: Partial<Step>): Definition {
  return { ...d, steps: d.steps.map((s) => (s.id === id ? withoutUndefined({ ...s, ...patch }) : s)) };
}

/** Renames a step and the dependsOn and fallbacks that name it (templates are the author's text: left as typed). */
export function renameStep(d: Definition, from: string, to: string): Definition {
  if (from === to) return d;
  return {
    ...d,
    steps: d.steps.map((s) => {
      const renamed: Step = { ...s, id: s.id === from ? to : s.id };
      if (s.dependsOn) renamed.dependsOn = s.dependsOn.map((x) => (x === from ? to : x));
      if (s.onFailure && typeof s.onFailure === 'object' && s.onFailure.fallback === from) renamed.onFailure = { fallback: to };
      return renamed;
    }),
  };
}

/** Removes a step, the dependencies on it and the fallbacks naming it (those steps then abort on failure, the default). */
export function removeStep(d: Definition, id: string): Definition {
  return {
    ...d,
    steps: d.steps
      .filter((s) => s.id !== id)
      .map((s) => {
        let next = s;
        if (s.dependsOn?.includes(id)) next = withoutUndefined({ ...next, dependsOn: emptyToUndefined(s.dependsOn.filter((x) => x !== id)) });
        if (s.onFailure && typeof s.onFailure === 'object' && s.onFailure.fallback === id) next = withoutUndefined({ ...next, onFailure: undefined });
        return next;
      }),
  };
}

/** `target` waits for `source` (an edge source → target). Nothing changes for a self-edge or one already there. */
export function connect(d: Definition, source: string, target: string): Definition {
  const step = d.steps.find((s) => s.id === target);
  if (!step || source === target || step.dependsOn?.includes(source) || !d.steps.some((s) => s.id === source)) return d;
  return updateStep(d, target, { dependsOn: [...(step.dependsOn ?? []), source] });
}

export function disconnect(d: Definition, source: string, target: string): Definition {
  const step = d.steps.find((s) => s.id === target);
  if (!step?.dependsOn?.includes(source)) return d;
  return updateStep(d, target, { dependsOn: emptyToUndefined(step.dependsOn.filter((x) => x !== source)) });
}

/** Edge id of a dependency, and back: `dep:<source>-><target>` (step ids have no `>`). */
export const edgeId = (source: string, target: string) => `dep:${source}->${target}`;
export function parseEdgeId(id: string): { source: string; target: string } | null {
  const m = /^dep:(.+)->(.+)$/.exec(id);
  return m ? { source: m[1], target: m[2] } : null;
}

/** Steps `id` waits for, directly or through others: the ones its templates may read. */
export function upstreamOf(d: Definition, id: string): string[] {
  const byId = new Map(d.steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const stack = [...(byId.get(id)?.dependsOn ?? [])];
  while (stack.length) {
    const next = stack.pop() as string;
    if (seen.has(next) || next === id || !byId.has(next)) continue;
    seen.add(next);
    stack.push(...(byId.get(next)?.dependsOn ?? []));
  }
  return d.steps.map((s) => s.id).filter((s) => seen.has(s));
}

/** Steps `id` may newly depend on: not itself, not already, and not one waiting for it (that would be a cycle). Linear in the steps. */
export function dependencyCandidates(d: Definition, id: string): string[] {
  const step = d.steps.find((s) => s.id === id);
  const dependents = new Map<string, string[]>();
  for (const s of d.steps) for (const dep of s.dependsOn ?? []) dependents.set(dep, [...(dependents.get(dep) ?? []), s.id]);
  const downstream = new Set<string>([id]);
  const stack = [id];
  while (stack.length) {
    for (const next of dependents.get(stack.pop() as string) ?? []) {
      if (!downstream.has(next)) {
        downstream.add(next);
        stack.push(next);
      }
    }
  }
  return d.steps.map((s) => s.id).filter((other) => !downstream.has(other) && !step?.dependsOn?.includes(other));
}

/** Names of the run input the templates can read: `input.<name>`. */
export function inputNames(d: Definition): string[] {
  return Object.keys(d.variables?.properties ?? {});
}

/**
 * Errors by step id: the error's stepId, or else the step its field points into
 * (`steps[2].parameters.x`); the rest (the name, the description…) under `''`.
 */
export function errorsByStep(d: Definition, errors: ReadonlyArray<{ stepId?: string; field: string; message: string }>): Map<string, string[]> {
  const byStep = new Map<string, string[]>();
  for (const e of errors) {
    const index = /^steps\[(\d+)\]/.exec(e.field)?.[1];
    const id = e.stepId ?? (index !== undefined ? d.steps[Number(index)]?.id : undefined) ?? '';
    byStep.set(id, [...(byStep.get(id) ?? []), `${e.field}: ${e.message}`]);
  }
  return byStep;
}

/** Whether an edit left the definition as it was loaded (key order counts: a field set then cleared reads as a change). */
export function sameDefinition(a: Definition, b: Definition): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function emptyToUndefined<T>(list: T[]): T[] | undefined {
  return list.length ? list : undefined;
}

/** Optional fields cleared in the panel are left out, not sent as null. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
