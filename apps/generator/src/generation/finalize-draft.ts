import { MISSING_TOOL_PREFIX, type GenerationConstraints, type MissingTool, type ReusedWorkflow } from '@toolpath/contracts';
import { formatPath } from '@toolpath/contracts';
import { validateWorkflow, type WorkflowDefinition, type WorkflowStep } from '@toolpath/workflow';
import type { CatalogSnapshot } from '../catalog/catalog-snapshots';
import type { ToolSet } from '../tools/tool-catalog';

/** Tag a draft gets when some of its steps call tools that do not exist yet. */
export const NEEDS_TOOLS_TAG = 'needs-new-tools';

export interface DraftInput {
  /** The proposed definition, as answered (not yet validated). */
  workflow: unknown;
  explanation: string;
  /** Tools the author says are missing, with its reasons. */
  missingTools: Array<{ name: string; reason: string }>;
  reusedWorkflowIds: string[];
}

export interface DraftContext {
  tools: ToolSet;
  catalog: CatalogSnapshot;
  constraints?: GenerationConstraints;
}

export interface FinalDraft {
  workflow: WorkflowDefinition;
  explanation: string;
  toolsUsed: string[];
  missingTools: MissingTool[];
  reusedWorkflows: ReusedWorkflow[];
  warnings: string[];
}

export type DraftCheck = { ok: true; draft: FinalDraft } | { ok: false; problems: string[] };

/** Most problems shown to the model in one repair round. */
const MAX_PROBLEMS = 30;

function normalize(workflow: unknown, constraints?: GenerationConstraints): unknown {
  if (typeof workflow !== 'object' || workflow === null || Array.isArray(workflow)) return workflow;
  const { id: _id, ...rest } = workflow as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest, source: 'generated' };
  if (out.description === undefined) out.description = '';
  if (constraints?.category && out.category === undefined) out.category = constraints.category;
  if (constraints?.tags?.length) {
    const tags = Array.isArray(out.tags) ? (out.tags as unknown[]) : [];
    out.tags = [...new Set([...tags, ...constraints.tags])];
  }
  return out;
}

/**
 * Turns a proposed definition into a draft, or into the problems a repair round shows the model:
 * validation errors (naming step and field), the step limit, and misuse of `workflow.run`.
 * Tools that do not exist (or that the constraints exclude) are not a problem to repair: such a
 * step's tool becomes `missing:<name>`, the tool is listed in `missingTools` with the author's
 * reason, and a warning says so, so a draft can never pass an invented tool off as a real one.
 */
export function finalizeDraft(input: DraftInput, ctx: DraftContext): DraftCheck {
  const candidate = normalize(input.workflow, ctx.constraints);
  const result = validateWorkflow(candidate);
  if (!result.ok) {
    return { ok: false, problems: result.errors.slice(0, MAX_PROBLEMS).map((e) => `${e.field}: ${e.message}${e.cycle ? ` (cycle ${e.cycle.join(' -> ')})` : ''}`) };
  }
  const problems: string[] = [];
  const def = result.workflow;
  const maxSteps = ctx.constraints?.maxSteps;
  if (maxSteps !== undefined && def.steps.length > maxSteps) problems.push(`steps: the workflow may have at most ${maxSteps} steps, it has ${def.steps.length}`);
  def.steps.forEach((step, i) => {
    if (step.tool !== 'workflow.run') return;
    const d = step.parameters.definition;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) {
      problems.push(`${formatPath(['steps', i, 'parameters', 'definition'])}: step "${step.id}": workflow.run needs an inline "definition" object; to reuse a listed workflow, copy its steps instead`);
    }
  });
  if (problems.length > 0) return { ok: false, problems };

  const allowed = ctx.constraints?.tools ? new Set(ctx.constraints.tools) : undefined;
  const exists = (name: string) => ctx.tools.has(name) && (!allowed || allowed.has(name));
  const reasons = new Map(input.missingTools.map((m) => [m.name.startsWith(MISSING_TOOL_PREFIX) ? m.name.slice(MISSING_TOOL_PREFIX.length) : m.name, m.reason]));
  const missing = new Map<string, MissingTool>();
  const used = new Set<string>();
  const mark = (tool: string, stepId: string): string => {
    const name = tool.startsWith(MISSING_TOOL_PREFIX) ? tool.slice(MISSING_TOOL_PREFIX.length) : tool;
    if (exists(name)) {
      used.add(name);
      return name;
    }
    const entry = missing.get(name) ?? { name, reason: reasons.get(name) || defaultReason(name, ctx, allowed), stepIds: [] };
    if (!entry.stepIds.includes(stepId)) entry.stepIds.push(stepId);
    missing.set(name, entry);
    return `${MISSING_TOOL_PREFIX}${name}`;
  };
  const steps: WorkflowStep[] = def.steps.map((step) => ({
    ...step,
    tool: mark(step.tool, step.id),
    ...(step.compensate ? { compensate: { ...step.compensate, tool: mark(step.compensate.tool, step.id) } } : {}),
  }));
  const warnings: string[] = [];
  for (const [name, reason] of reasons) {
    if (missing.has(name)) continue;
    if (exists(name)) {
      warnings.push(`"${name}" was reported missing but exists; it is not listed as missing`);
      continue;
    }
    missing.set(name, { name, reason, stepIds: [] });
  }
  for (const m of missing.values()) {
    warnings.push(
      m.stepIds.length > 0
        ? `tool "${m.name}" does not exist${allowed && ctx.tools.has(m.name) ? ' among the allowed tools' : ''}: step${m.stepIds.length > 1 ? 's' : ''} ${m.stepIds.join(', ')} call${m.stepIds.length > 1 ? '' : 's'} "${MISSING_TOOL_PREFIX}${m.name}" until it is built`
        : `tool "${m.name}" would be needed: ${m.reason}`,
    );
  }
  const reused: ReusedWorkflow[] = [];
  for (const id of new Set(input.reusedWorkflowIds)) {
    const e = ctx.catalog.byId.get(id);
    if (!e) {
      warnings.push(`reused workflow "${id}" is not in this tenant's catalog; ignored`);
      continue;
    }
    reused.push({ id: e.id, name: e.name, source: e.source, successRate: e.successRate, runs: e.runs });
  }
  if (ctx.catalog.loading) warnings.push("this tenant's workflows are still being loaded; the draft could not reuse them (try again in a moment)");
  if (ctx.tools.registryError) warnings.push(`the tool registry could not be read (${ctx.tools.registryError}); only built-in tools counted as existing`);

  const tags = missing.size > 0 ? [...new Set([...(def.tags ?? []), NEEDS_TOOLS_TAG])].slice(0, 50) : def.tags;
  const final = validateWorkflow({ ...def, steps, ...(tags ? { tags } : {}) });
  if (!final.ok) return { ok: false, problems: final.errors.slice(0, MAX_PROBLEMS).map((e) => `${e.field}: ${e.message}`) };
  return {
    ok: true,
    draft: {
      workflow: final.workflow,
      explanation: input.explanation,
      toolsUsed: [...used].sort(),
      missingTools: [...missing.values()],
      reusedWorkflows: reused,
      warnings,
    },
  };
}

function defaultReason(name: string, ctx: DraftContext, allowed: Set<string> | undefined): string {
  if (allowed && ctx.tools.has(name)) return 'the constraints do not allow this tool';
  return 'the draft calls it, but no provider has announced a tool of that name';
}
