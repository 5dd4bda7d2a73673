import type { WorkflowDefinition, WorkflowSource } from './workflow-definition';

/**
 * A workflow without its steps: what a list, a search, a prompt or a suggestion shows of it.
 * Readers that need more (a version, a success rate, the definition) extend it.
 */
export interface WorkflowCard {
  id: string;
  name: string;
  description: string;
  category?: string;
  tags: string[];
  source: WorkflowSource;
  /** Every tool a run may call: `toolsOfWorkflow`. */
  tools: string[];
}

/** What the tools of a workflow are read from: its steps (as written or as parsed). */
export interface ToolSteps {
  steps: ReadonlyArray<{ tool: string; compensate?: { tool: string } }>;
}

/**
 * The tools of a workflow: every tool a run of it may call, distinct, in order of first use
 * (each step's tool, then its compensation's). A fallback is a step of the workflow, so its tool
 * is among them. The catalog stores this list with each workflow (the `tools` filter).
 */
export function toolsOfWorkflow(definition: ToolSteps): string[] {
  const tools = new Set<string>();
  for (const step of definition.steps) {
    tools.add(step.tool);
    if (step.compensate) tools.add(step.compensate.tool);
  }
  return [...tools];
}

/**
 * The tools of the steps in definition order, repeats kept: the sequence a run makes when every
 * step runs once, the shape of a learned pattern, and what "the calls made so far match its first
 * steps" compares with. Not the tools of the workflow (no compensations, repeats kept).
 */
export function stepToolSequence(definition: ToolSteps): string[] {
  return definition.steps.map((step) => step.tool);
}

const SOURCES: ReadonlySet<string> = new Set<WorkflowSource>(['user', 'learned', 'generated', 'template']);

/** What a card reads of a definition (a stored row may carry only these fields, read leniently). */
export type CardFields = Partial<Pick<WorkflowDefinition, 'name' | 'description' | 'category' | 'tags' | 'source'>>;

/**
 * The card of a workflow. `tools` is the stored list when the steps were not read, otherwise
 * `toolsOfWorkflow(definition)`. Stored rows were validated when written; the fallbacks only keep
 * a damaged row from breaking a listing.
 */
export function workflowCard(id: string, definition: CardFields, tools: string[]): WorkflowCard {
  const d = definition as Record<string, unknown>;
  return {
    id,
    name: typeof d.name === 'string' ? d.name : id,
    description: typeof d.description === 'string' ? d.description : '',
    ...(typeof d.category === 'string' ? { category: d.category } : {}),
    tags: Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : [],
    source: typeof d.source === 'string' && SOURCES.has(d.source) ? (d.source as WorkflowSource) : 'user',
    tools,
  };
}
