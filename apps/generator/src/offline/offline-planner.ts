import type { GenerationConstraints } from '@toolpath/contracts';
import type { WorkflowTemplate } from '@toolpath/templates';
import { toolsOfWorkflow, workflowCard, type WorkflowCard, type WorkflowDefinition, type WorkflowStep } from '@toolpath/workflow';
import type { CatalogSnapshot } from '../catalog/catalog-snapshots';
import type { CatalogEntry } from '../catalog/catalog.repository';
import type { DraftInput } from '../generation/finalize-draft';
import { TextIndex, queryTermsOf } from '../search/text-index';
import type { ToolSet } from '../tools/tool-catalog';

/** A reusable workflow must match at least this share of the prompt's terms (or two terms). */
const MIN_REUSE_COVERAGE = 0.34;
/** Steps a draft composed from tool descriptions has at most. */
const MAX_COMPOSED_STEPS = 6;

export interface OfflinePlanInputs {
  prompt: string;
  constraints?: GenerationConstraints;
  tools: ToolSet;
  catalog: CatalogSnapshot;
  templates: TemplateIndex;
}

export type OfflinePlan = { ok: true; draft: DraftInput } | { ok: false; reason: string };

/** The built-in templates, searchable like the catalog. */
export class TemplateIndex {
  private readonly index = new TextIndex<WorkflowCard>(['name', 'description', 'category', 'tags', 'tools'], { name: 2, tags: 1.5 });
  readonly byId: ReadonlyMap<string, WorkflowTemplate>;

  constructor(readonly templates: WorkflowTemplate[]) {
    this.byId = new Map(templates.map((t) => [t.id, t]));
    this.index.addAll(templates.map((t) => workflowCard(t.id, t, toolsOfWorkflow(t))));
  }

  search(text: string, limit: number) {
    return this.index.search(text, limit);
  }
}

interface Candidate {
  kind: 'catalog' | 'template';
  id: string;
  rank: number;
  coverage: number;
  matched: number;
  entry?: CatalogEntry;
}

/**
 * Drafts without an LLM, from what the tenant has and what the tools say of themselves:
 * 1. the catalog workflow or template whose name, description, tags and tools best match the
 *    prompt (BM25), ranked by coverage of the prompt's terms and by success rate — copied;
 * 2. otherwise a chain of the tools whose names and descriptions match, in the order the prompt
 *    mentions them, each required input bound to a run variable;
 * 3. otherwise no draft, with the reason.
 * Everything it reads is in memory (the tenant's snapshot, the registry, the templates).
 */
export function planOffline(inputs: OfflinePlanInputs): OfflinePlan {
  const terms = queryTermsOf(inputs.prompt);
  if (terms.length === 0) return { ok: false, reason: 'the prompt has no words to match against tools or workflows' };
  const allowed = inputs.constraints?.tools ? new Set(inputs.constraints.tools) : undefined;
  const fits = (tools: string[]) => !allowed || tools.every((t) => allowed.has(t));
  const maxSteps = inputs.constraints?.maxSteps;

  const candidates: Candidate[] = [];
  for (const hit of inputs.catalog.search(inputs.prompt, 10, (e) => fits(e.tools))) {
    const rate = hit.entry.successRate ?? 0.5;
    candidates.push({ kind: 'catalog', id: hit.id, coverage: hit.coverage, matched: hit.matched.length, entry: hit.entry, rank: hit.coverage * (0.6 + 0.4 * rate) + sourceBonus(hit.entry.source) });
  }
  for (const hit of inputs.templates.search(inputs.prompt, 5)) {
    const t = inputs.templates.byId.get(hit.id)!;
    if (!fits(toolsOfWorkflow(t))) continue;
    candidates.push({ kind: 'template', id: hit.id, coverage: hit.coverage, matched: hit.matched.length, rank: hit.coverage * 0.8 });
  }
  candidates.sort((a, b) => b.rank - a.rank);
  for (const c of candidates) {
    if (c.coverage < MIN_REUSE_COVERAGE && c.matched < 2) break;
    const draft = c.kind === 'catalog' ? fromCatalog(c.entry!) : fromTemplate(inputs.templates.byId.get(c.id)!);
    if (draft && (maxSteps === undefined || countSteps(draft) <= maxSteps)) return { ok: true, draft };
  }

  const composed = composeFromTools(inputs, terms, allowed, maxSteps ?? MAX_COMPOSED_STEPS);
  if (composed) return { ok: true, draft: composed };
  return { ok: false, reason: 'no workflow, template or tool matches the prompt; describe the task with the names of the tools or systems involved' };
}

function sourceBonus(source: string): number {
  return source === 'learned' || source === 'user' ? 0.05 : 0;
}

function countSteps(d: DraftInput): number {
  return (d.workflow as WorkflowDefinition).steps.length;
}

function fromCatalog(e: CatalogEntry): DraftInput {
  const def = e.definition;
  const rate = e.successRate === null ? 'no finished runs yet' : `${Math.round(e.successRate * 100)}% of ${e.runs} finished runs completed`;
  return {
    workflow: { ...def, source: 'generated' },
    explanation: `Offline draft: reuses the ${e.source} workflow "${e.name}" (${e.id}; ${rate}), the closest match to the request among the tenant's workflows.`,
    missingTools: [],
    reusedWorkflowIds: [e.id],
  };
}

function fromTemplate(t: WorkflowTemplate): DraftInput {
  return {
    workflow: { ...t, source: 'generated' },
    explanation: `Offline draft: adapts the built-in template "${t.name}" (${t.id}, category ${t.category}); bind its variables at run time.`,
    missingTools: [],
    reusedWorkflowIds: [],
  };
}

/** Position of the first prompt term a tool matched: the chain follows the order the prompt tells. */
function firstMention(matched: string[], terms: string[]): number {
  return Math.min(...matched.map((m) => terms.indexOf(m)).filter((i) => i >= 0), Number.MAX_SAFE_INTEGER);
}

function composeFromTools(inputs: OfflinePlanInputs, terms: string[], allowed: Set<string> | undefined, maxSteps: number): DraftInput | undefined {
  const hits = inputs.tools
    .search(inputs.prompt, 20)
    .filter((h) => !allowed || allowed.has(h.id))
    // A tool matched only through its description on one common word is noise.
    .filter((h) => h.matched.length >= 2 || h.id.toLowerCase().split(/[._-]/).some((part) => h.matched.includes(part)));
  if (hits.length === 0) return undefined;
  const chosen = hits.slice(0, Math.min(maxSteps, MAX_COMPOSED_STEPS)).sort((a, b) => firstMention(a.matched, terms) - firstMention(b.matched, terms));
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  const steps: WorkflowStep[] = [];
  chosen.forEach((hit, i) => {
    const tool = inputs.tools.byName.get(hit.id)!;
    const stepId = `${hit.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56)}_${i + 1}`;
    const schema = tool.inputSchema as { properties?: Record<string, Record<string, unknown>>; required?: unknown };
    const parameters: Record<string, unknown> = {};
    for (const name of Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []) {
      const variable = properties[name] === undefined ? name : `${stepId}_${name}`;
      const prop = schema.properties?.[name] ?? {};
      properties[variable] = { ...(typeof prop.type === 'string' ? { type: prop.type } : {}), description: `${name} for ${hit.id}` };
      required.push(variable);
      parameters[name] = `{{ input.${variable} }}`;
    }
    steps.push({ id: stepId, tool: hit.id, parameters, ...(i > 0 ? { dependsOn: [steps[i - 1].id] } : {}) });
  });
  const names = chosen.map((h) => h.id);
  return {
    workflow: {
      name: cutName(`Draft: ${inputs.prompt.trim()}`),
      description: `Offline draft chaining ${names.join(' → ')}, the tools whose names and descriptions match the request. Review the order and the parameters.`,
      ...(Object.keys(properties).length ? { variables: { type: 'object', properties, required } } : {}),
      steps,
      source: 'generated',
    },
    explanation: `Offline draft: no catalog workflow or template matched well enough, so the steps are the matching tools (${names.join(', ')}) in the order the request mentions them; each required input is a run variable.`,
    missingTools: [],
    reusedWorkflowIds: [],
  };
}

function cutName(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 120 ? `${oneLine.slice(0, 119)}…` : oneLine;
}
