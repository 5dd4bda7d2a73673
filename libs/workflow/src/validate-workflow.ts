import { formatPath } from '@toolpath/contracts';
import { buildStepGraph, findCycles, topologicalOrder, type GraphCycle, type StepGraph } from './dag';
import { inspectDefinitionInput, type InspectionIssue } from './inspect-definition-input';
import { MAX_REPORTED_ERRORS, MAX_STEPS } from './limits';
import { STEP_VIEW_FIELDS, TEMPLATE_ROOTS } from './template/template-context';
import { TemplateError } from './template/template-error';
import { analyzeTemplate, type TemplateKind } from './template/template-references';
import { isTemplate } from './template/parse-template';
import { WorkflowDefinitionSchema, fallbackOf, type WorkflowDefinition, type WorkflowStep } from './workflow-definition';

export type WorkflowErrorCode =
  | 'invalid_definition'
  | 'too_many_steps'
  | 'too_large'
  | 'too_deep'
  | 'not_json'
  | 'forbidden_key'
  | 'unstorable'
  | 'invalid_schema'
  | 'duplicate_step_id'
  | 'unknown_dependency'
  | 'self_dependency'
  | 'dependency_cycle'
  | 'unknown_fallback'
  | 'self_fallback'
  | 'shared_fallback'
  | 'fallback_is_ancestor'
  | 'fallback_depends_on_step'
  | 'template_syntax'
  | 'template_forbidden_name'
  | 'unknown_template_name'
  | 'unknown_step_reference'
  | 'self_reference'
  | 'non_ancestor_reference'
  | 'dynamic_step_reference'
  | 'unknown_step_field'
  | 'unknown_tool'
  | 'too_many_errors';

export interface WorkflowValidationError {
  /** The step the error is about (also named in `message`). */
  stepId?: string;
  /** Offending field as a path: `steps[2].parameters.body`. */
  field: string;
  message: string;
  code: WorkflowErrorCode;
  /** For template errors: offset in the template or condition string. */
  position?: number;
  /** For cycles: the closed path of step ids. */
  cycle?: string[];
}

export type WorkflowValidation = { ok: true; workflow: WorkflowDefinition } | { ok: false; errors: WorkflowValidationError[] };

export interface ValidateWorkflowOptions {
  /** When given, a step (or compensation) whose tool it does not know is an error. */
  knownTools?: (name: string) => boolean;
}

const MAX_SHOWN_ID = 64;

class ErrorList {
  readonly items: WorkflowValidationError[] = [];
  private overflow = 0;

  add(code: WorkflowErrorCode, field: string, message: string, stepId?: string, extra: Partial<WorkflowValidationError> = {}): void {
    if (this.items.length >= MAX_REPORTED_ERRORS) {
      this.overflow++;
      return;
    }
    const text = stepId !== undefined ? `step ${JSON.stringify(stepId)}: ${message}` : message;
    this.items.push({ ...(stepId !== undefined ? { stepId } : {}), field, message: text, code, ...extra });
  }

  get count(): number {
    return this.items.length;
  }

  result(): WorkflowValidationError[] {
    if (this.overflow > 0) {
      this.items.push({ field: '(root)', code: 'too_many_errors', message: `${this.overflow} more errors not shown` });
      this.overflow = 0;
    }
    return this.items;
  }
}

/** The id of the step a raw path points into, for naming it before the schema has passed. */
function rawStepId(input: Record<string, unknown>, path: ReadonlyArray<PropertyKey>): string | undefined {
  if (path[0] !== 'steps' || typeof path[1] !== 'number') return undefined;
  const steps = input.steps;
  if (!Array.isArray(steps)) return undefined;
  const step: unknown = steps[path[1]];
  if (typeof step !== 'object' || step === null) return undefined;
  const id = (step as Record<string, unknown>).id;
  if (typeof id !== 'string') return undefined;
  return id.length > MAX_SHOWN_ID ? `${id.slice(0, MAX_SHOWN_ID)}…` : id;
}

/**
 * Validates a workflow definition (contract v1) before it is stored or run. Every error names
 * its field, and its step when it has one. Hostile input is cheap to refuse: the step count is
 * checked first, then one bounded iterative walk (size, nesting, prototype keys), then the
 * schema, and only then the graph and template checks, which are linear in the (bounded) size
 * apart from ancestor bitsets (at most MAX_STEPS² bits).
 */
export function validateWorkflow(input: unknown, options: ValidateWorkflowOptions = {}): WorkflowValidation {
  const errors = new ErrorList();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    errors.add('invalid_definition', '(root)', 'a workflow definition must be a JSON object');
    return { ok: false, errors: errors.result() };
  }
  const raw = input as Record<string, unknown>;
  if (Array.isArray(raw.steps) && raw.steps.length > MAX_STEPS) {
    errors.add('too_many_steps', 'steps', `a workflow has at most ${MAX_STEPS} steps, this one has ${raw.steps.length}`);
    return { ok: false, errors: errors.result() };
  }

  const inspection = inspectDefinitionInput(raw, MAX_REPORTED_ERRORS);
  for (const issue of inspection.issues) addInspectionIssue(errors, raw, issue);
  if (inspection.tooLarge || inspection.issues.some((i) => i.code !== 'forbidden_key')) return { ok: false, errors: errors.result() };

  const parsed = WorkflowDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors.add('invalid_schema', formatPath(issue.path), issue.message, rawStepId(raw, issue.path));
    }
    return { ok: false, errors: errors.result() };
  }

  checkSemantics(parsed.data, errors, options);
  return errors.count === 0 ? { ok: true, workflow: parsed.data } : { ok: false, errors: errors.result() };
}

function addInspectionIssue(errors: ErrorList, raw: Record<string, unknown>, issue: InspectionIssue): void {
  const field = formatPath(issue.path);
  const message = issue.path.length > 0 ? `${field}: ${issue.message}` : issue.message;
  errors.add(issue.code, field, message, rawStepId(raw, issue.path));
}

/** ancestors[i] has bit j set when step i waits for step j, directly or transitively. */
type AncestorSets = Uint32Array[];

function ancestorSets(graph: StepGraph): AncestorSets {
  const n = graph.ids.length;
  const words = Math.ceil(n / 32);
  const sets: AncestorSets = graph.ids.map(() => new Uint32Array(words));
  for (const i of topologicalOrder(graph)) {
    const own = sets[i];
    for (const d of graph.dependencies[i]) {
      const theirs = sets[d];
      for (let w = 0; w < words; w++) own[w] |= theirs[w];
      own[d >>> 5] |= 1 << (d & 31);
    }
  }
  return sets;
}

const hasBit = (set: Uint32Array, j: number) => (set[j >>> 5] & (1 << (j & 31))) !== 0;

function checkSemantics(workflow: WorkflowDefinition, errors: ErrorList, options: ValidateWorkflowOptions): void {
  const { steps } = workflow;
  const firstIndex = new Map<string, number>();
  steps.forEach((step, i) => {
    const first = firstIndex.get(step.id);
    if (first !== undefined) {
      errors.add('duplicate_step_id', `steps[${i}].id`, `id is already used by steps[${first}]`, step.id);
    } else {
      firstIndex.set(step.id, i);
    }
  });

  steps.forEach((step, i) => {
    step.dependsOn?.forEach((dep, k) => {
      const field = `steps[${i}].dependsOn[${k}]`;
      if (dep === step.id) errors.add('self_dependency', field, 'a step cannot depend on itself', step.id);
      else if (!firstIndex.has(dep)) errors.add('unknown_dependency', field, `dependsOn names unknown step ${JSON.stringify(dep)}`, step.id);
    });
  });

  const dependsOnGraph = buildStepGraph(steps, { acceptFallback: () => false });
  const cycles = findCycles(dependsOnGraph);
  reportCycles(cycles, dependsOnGraph, errors);
  const dependsOnAncestors = cycles.length === 0 ? ancestorSets(dependsOnGraph) : undefined;

  const acceptedFallbacks = checkFallbacks(steps, firstIndex, dependsOnAncestors, errors);

  let ancestors: AncestorSets | undefined;
  if (dependsOnAncestors !== undefined) {
    const graph = buildStepGraph(steps, { acceptFallback: (i) => acceptedFallbacks.has(i) });
    const fallbackCycles = findCycles(graph);
    reportCycles(fallbackCycles, graph, errors);
    if (fallbackCycles.length === 0) ancestors = ancestorSets(graph);
  }

  steps.forEach((step, i) => checkStepTemplates(step, i, firstIndex, ancestors, errors));

  if (options.knownTools !== undefined) {
    const known = options.knownTools;
    steps.forEach((step, i) => {
      if (!known(step.tool)) errors.add('unknown_tool', `steps[${i}].tool`, `unknown tool ${JSON.stringify(step.tool)}`, step.id);
      if (step.compensate !== undefined && !known(step.compensate.tool)) {
        errors.add('unknown_tool', `steps[${i}].compensate.tool`, `unknown compensation tool ${JSON.stringify(step.compensate.tool)}`, step.id);
      }
    });
  }
}

function reportCycles(cycles: GraphCycle[], graph: StepGraph, errors: ErrorList): void {
  for (const cycle of cycles) {
    const first = cycle.stepIds[0];
    const index = graph.indexOf.get(first) as number;
    errors.add('dependency_cycle', `steps[${index}].dependsOn`, `dependency cycle: ${cycle.text} (each step waits for the next)`, first, {
      cycle: cycle.stepIds,
    });
  }
}

/** Returns the indices of steps whose fallback is sound (and becomes a graph edge). */
function checkFallbacks(
  steps: readonly WorkflowStep[],
  firstIndex: ReadonlyMap<string, number>,
  ancestors: AncestorSets | undefined,
  errors: ErrorList,
): Set<number> {
  const accepted = new Set<number>();
  const claimedBy = new Map<number, number>();
  steps.forEach((step, i) => {
    const name = fallbackOf(step);
    if (name === undefined) return;
    const field = `steps[${i}].onFailure.fallback`;
    const f = firstIndex.get(name);
    const quoted = JSON.stringify(name);
    if (name === step.id) return errors.add('self_fallback', field, 'a step cannot be its own fallback', step.id);
    if (f === undefined) return errors.add('unknown_fallback', field, `fallback names unknown step ${quoted}`, step.id);
    const owner = claimedBy.get(f);
    if (owner !== undefined) {
      return errors.add('shared_fallback', field, `step ${quoted} is already the fallback of ${JSON.stringify(steps[owner].id)}`, step.id);
    }
    if (ancestors !== undefined && hasBit(ancestors[i], f)) {
      return errors.add('fallback_is_ancestor', field, `fallback ${quoted} is among this step's dependencies, so it runs before this step can fail`, step.id);
    }
    if (ancestors !== undefined && hasBit(ancestors[f], i)) {
      return errors.add('fallback_depends_on_step', field, `fallback ${quoted} depends on this step, so it could never run when this step fails`, step.id);
    }
    claimedBy.set(f, i);
    accepted.add(i);
  });
  return accepted;
}

function checkStepTemplates(
  step: WorkflowStep,
  i: number,
  firstIndex: ReadonlyMap<string, number>,
  ancestors: AncestorSets | undefined,
  errors: ErrorList,
): void {
  const check = (source: string, field: string, kind: TemplateKind, allowSelf: boolean) =>
    checkTemplate(source, field, kind, { step, i, allowSelf, firstIndex, ancestors, errors });
  forEachString(step.parameters, `steps[${i}].parameters`, (text, field) => check(text, field, 'template', false));
  if (step.condition !== undefined) check(step.condition, `steps[${i}].condition`, 'condition', false);
  if (step.compensate !== undefined) {
    // A compensation runs after its step completed, so it may read the step's own result.
    forEachString(step.compensate.parameters, `steps[${i}].compensate.parameters`, (text, field) => check(text, field, 'template', true));
  }
}

/** Visits every string value with its path; iterative (depth was bounded by the inspection). */
function forEachString(root: unknown, rootField: string, visit: (text: string, field: string) => void): void {
  const stack: Array<{ value: unknown; field: string }> = [{ value: root, field: rootField }];
  while (stack.length > 0) {
    const { value, field } = stack.pop() as { value: unknown; field: string };
    if (typeof value === 'string') {
      if (isTemplate(value)) visit(value, field);
    } else if (Array.isArray(value)) {
      for (let k = value.length - 1; k >= 0; k--) stack.push({ value: value[k], field: `${field}[${k}]` });
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let k = entries.length - 1; k >= 0; k--) stack.push({ value: entries[k][1], field: `${field}.${entries[k][0]}` });
    }
  }
}

interface TemplateCheck {
  step: WorkflowStep;
  i: number;
  allowSelf: boolean;
  firstIndex: ReadonlyMap<string, number>;
  ancestors: AncestorSets | undefined;
  errors: ErrorList;
}

function checkTemplate(source: string, field: string, kind: TemplateKind, c: TemplateCheck): void {
  const { step, errors } = c;
  let refs;
  try {
    refs = analyzeTemplate(source, kind);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const code = err.code === 'forbidden_name' ? 'template_forbidden_name' : 'template_syntax';
    const at = err.position !== undefined ? ` at position ${err.position}` : '';
    errors.add(code, field, `${field}: ${err.reason}${at}`, step.id, err.position !== undefined ? { position: err.position } : {});
    return;
  }
  const reported = new Set<string>();
  for (const { name, position } of refs.names) {
    if (TEMPLATE_ROOTS.has(name) || reported.has(name)) continue;
    reported.add(name);
    errors.add('unknown_template_name', field, `${field}: unknown name "${name}" (templates read input.<name> and steps.<id>.result)`, step.id, { position });
  }
  for (const position of refs.dynamicStepAccess) {
    errors.add('dynamic_step_reference', field, `${field}: steps must be followed by a literal step id (steps.<id>.result), so the dependency can be checked`, step.id, {
      position,
    });
  }
  for (const ref of refs.steps) {
    const quoted = JSON.stringify(ref.stepId);
    const j = c.firstIndex.get(ref.stepId);
    const at = { position: ref.position };
    if (j === undefined) {
      errors.add('unknown_step_reference', field, `${field}: reads unknown step ${quoted}`, step.id, at);
      continue;
    }
    if (j === c.i) {
      if (!c.allowSelf) errors.add('self_reference', field, `${field}: a step cannot read its own state`, step.id, at);
    } else if (c.ancestors !== undefined && !hasBit(c.ancestors[c.i], j)) {
      errors.add(
        'non_ancestor_reference',
        field,
        `${field}: reads steps.${ref.stepId}, which is not among this step's dependencies (add ${quoted} to dependsOn, directly or through another step)`,
        step.id,
        at,
      );
    }
    if (ref.field !== undefined && !STEP_VIEW_FIELDS.has(ref.field)) {
      errors.add(
        'unknown_step_field',
        field,
        `${field}: steps.${ref.stepId}.${ref.field} is not a step field (use ${[...STEP_VIEW_FIELDS].join(', ')}; data is under .result)`,
        step.id,
        at,
      );
    }
  }
}
