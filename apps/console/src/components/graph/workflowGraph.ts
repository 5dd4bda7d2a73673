/**
 * A workflow definition as a graph for LayeredGraph (pure; no React).
 *
 *   const { nodes, edges } = workflowGraph(definition); // <LayeredGraph nodes={nodes} edges={edges} label="…" />
 *
 * - a node per step: label = step id, sublabel = tool (and "undo: <tool>" when it compensates),
 *   layer = its depth in the dependency DAG, so steps that can run in parallel share a column;
 * - `dependsOn` → solid edge dependency → step (id `dep:<from>-><to>`);
 * - a parameter reading `steps.<id>` in a `{{ … }}` template → dashed edge labelled with the
 *   parameter's name (id `data:<from>-><to>:<param>`); the compensation's parameters count too;
 * - `onFailure: { fallback }` → edge step → fallback labelled "fallback" (id `fallback:<from>-><to>`).
 * Pass `tones` (step id → tone) to colour the steps, e.g. by run state.
 */
import type { GraphEdge, GraphNode, NodeTone } from './LayeredGraph';

export interface WorkflowStepLike {
  id: string;
  tool: string;
  dependsOn?: string[];
  parameters?: Record<string, unknown>;
  onFailure?: 'abort' | 'continue' | { fallback: string };
  compensate?: { tool: string; parameters?: Record<string, unknown> };
}

export interface WorkflowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;
const STEP_READ = /\bsteps\s*(?:\.\s*([A-Za-z0-9_-]+)|\[\s*['"]([A-Za-z0-9_-]+)['"]\s*\])/g;

/** Step ids read in the templates of any string inside `value`. */
export function stepsRead(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    for (const template of value.matchAll(TEMPLATE)) {
      for (const read of template[1].matchAll(STEP_READ)) found.add(read[1] ?? read[2]);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) stepsRead(v, found);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) stepsRead(v, found);
  }
  return found;
}

/** Depth of each step over dependsOn and fallbacks (0 = no dependency); a cycle or an unknown id does not loop. */
function depths(steps: WorkflowStepLike[]): Map<string, number> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  // A fallback runs after the step it stands in for: a column to its right.
  const fallbackOf = new Map<string, string[]>();
  for (const s of steps) if (s.onFailure && typeof s.onFailure === 'object') fallbackOf.set(s.onFailure.fallback, [...(fallbackOf.get(s.onFailure.fallback) ?? []), s.id]);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const deps = [...(byId.get(id)?.dependsOn ?? []), ...(fallbackOf.get(id) ?? [])].filter((d) => byId.has(d));
    const d = deps.length ? Math.max(...deps.map(visit)) + 1 : 0;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const s of steps) visit(s.id);
  return depth;
}

export function workflowGraph(definition: { steps: WorkflowStepLike[] }, tones: Record<string, NodeTone> = {}): WorkflowGraph {
  const steps = definition.steps ?? [];
  const ids = new Set(steps.map((s) => s.id));
  const depth = depths(steps);
  const nodes: GraphNode[] = steps.map((s) => ({
    id: s.id,
    label: s.id,
    sublabel: s.compensate ? `${s.tool} · undo: ${s.compensate.tool}` : s.tool,
    tone: tones[s.id] ?? 'default',
    layer: depth.get(s.id) ?? 0,
  }));
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const add = (edge: GraphEdge) => {
    if (seen.has(edge.id) || !ids.has(edge.source) || !ids.has(edge.target) || edge.source === edge.target) return;
    seen.add(edge.id);
    edges.push(edge);
  };
  for (const s of steps) {
    for (const dep of s.dependsOn ?? []) add({ id: `dep:${dep}->${s.id}`, source: dep, target: s.id });
    const params: Array<[string, unknown]> = [...Object.entries(s.parameters ?? {}), ...Object.entries(s.compensate?.parameters ?? {}).map(([k, v]): [string, unknown] => [`undo ${k}`, v])];
    for (const [name, value] of params) {
      for (const from of stepsRead(value)) add({ id: `data:${from}->${s.id}:${name}`, source: from, target: s.id, label: name, dashed: true });
    }
    if (s.onFailure && typeof s.onFailure === 'object') add({ id: `fallback:${s.id}->${s.onFailure.fallback}`, source: s.id, target: s.onFailure.fallback, label: 'fallback' });
  }
  return { nodes, edges };
}
