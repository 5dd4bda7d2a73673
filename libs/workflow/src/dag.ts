import { fallbackOf, type WorkflowStep } from './workflow-definition';

/** The fields of a step that shape the graph. */
export type GraphStep = Pick<WorkflowStep, 'id' | 'dependsOn' | 'onFailure'>;

/** Anything with steps: a definition, or a step list wrapped as `{ steps }`. */
export interface WorkflowLike<S extends GraphStep = GraphStep> {
  readonly steps: readonly S[];
}

/**
 * Steps as nodes (by position in the definition) and "waits for" edges. A step waits for its
 * `dependsOn`, and a fallback step also waits for the step it is the fallback of: it can only
 * run once that step has failed.
 */
export interface StepGraph {
  readonly ids: readonly string[];
  /** First step with each id. */
  readonly indexOf: ReadonlyMap<string, number>;
  /** dependencies[i]: the steps step i waits for. */
  readonly dependencies: ReadonlyArray<readonly number[]>;
  /** dependents[i]: the steps that wait for step i. */
  readonly dependents: ReadonlyArray<readonly number[]>;
  /** fallback[i]: the step that runs if step i fails, or -1. */
  readonly fallback: readonly number[];
  /** fallbackFor[i]: the step whose fallback step i is, or -1. */
  readonly fallbackFor: readonly number[];
}

export interface BuildStepGraphOptions {
  /** Which steps' `onFailure.fallback` become edges (default: all that name another known step). */
  acceptFallback?: (stepIndex: number) => boolean;
}

/**
 * Builds the graph, tolerating errors that validation reports (unknown or self dependencies and
 * fallbacks are left out; a duplicate id resolves to its first step; a step that is named as
 * fallback twice serves the first).
 */
export function buildStepGraph(steps: readonly GraphStep[], options: BuildStepGraphOptions = {}): StepGraph {
  const n = steps.length;
  const indexOf = new Map<string, number>();
  steps.forEach((step, i) => {
    if (!indexOf.has(step.id)) indexOf.set(step.id, i);
  });
  const dependencies: number[][] = steps.map(() => []);
  const dependents: number[][] = steps.map(() => []);
  const fallback = new Array<number>(n).fill(-1);
  const fallbackFor = new Array<number>(n).fill(-1);
  const seen = new Set<number>();
  steps.forEach((step, i) => {
    seen.clear();
    for (const name of step.dependsOn ?? []) {
      const j = indexOf.get(name);
      if (j === undefined || j === i || seen.has(j)) continue;
      seen.add(j);
      dependencies[i].push(j);
      dependents[j].push(i);
    }
  });
  steps.forEach((step, i) => {
    const name = fallbackOf(step);
    if (name === undefined) return;
    const f = indexOf.get(name);
    if (f === undefined || f === i || fallbackFor[f] !== -1) return;
    if (options.acceptFallback !== undefined && !options.acceptFallback(i)) return;
    fallback[i] = f;
    fallbackFor[f] = i;
    if (!dependencies[f].includes(i)) {
      dependencies[f].push(i);
      dependents[i].push(f);
    }
  });
  return { ids: steps.map((s) => s.id), indexOf, dependencies, dependents, fallback, fallbackFor };
}

const graphs = new WeakMap<readonly GraphStep[], StepGraph>();

/** The graph of a definition, built once per steps array (definitions are treated as immutable). */
export function stepGraphOf(workflow: WorkflowLike): StepGraph {
  let graph = graphs.get(workflow.steps);
  if (graph === undefined) {
    graph = buildStepGraph(workflow.steps);
    graphs.set(workflow.steps, graph);
  }
  return graph;
}

export interface GraphCycle {
  /** Closed path, first id repeated at the end; each step waits for the next. */
  stepIds: string[];
  /** `a → b → c → a`; an edge from a fallback to its primary step reads `f -fallback of→ p`. */
  text: string;
}

/**
 * Finds cycles with an iterative depth-first search (no recursion, O(steps + edges)). Each back
 * edge yields one cycle, reported once, rotated to start at its earliest step.
 */
export function findCycles(graph: StepGraph, limit = 20): GraphCycle[] {
  const n = graph.ids.length;
  const color = new Uint8Array(n);
  const position = new Int32Array(n).fill(-1);
  const cycles: GraphCycle[] = [];
  const seen = new Set<string>();
  for (let root = 0; root < n && cycles.length < limit; root++) {
    if (color[root] !== 0) continue;
    const stack = [root];
    const nextEdge = [0];
    color[root] = 1;
    position[root] = 0;
    while (stack.length > 0 && cycles.length < limit) {
      const top = stack.length - 1;
      const u = stack[top];
      const edges = graph.dependencies[u];
      if (nextEdge[top] < edges.length) {
        const v = edges[nextEdge[top]++];
        if (color[v] === 0) {
          color[v] = 1;
          position[v] = stack.length;
          stack.push(v);
          nextEdge.push(0);
        } else if (color[v] === 1) {
          const cycle = rotate(stack.slice(position[v]));
          const key = cycle.join(',');
          if (!seen.has(key)) {
            seen.add(key);
            cycles.push(describeCycle(graph, cycle));
          }
        }
      } else {
        color[u] = 2;
        position[u] = -1;
        stack.pop();
        nextEdge.pop();
      }
    }
  }
  return cycles;
}

function rotate(cycle: number[]): number[] {
  let min = 0;
  for (let i = 1; i < cycle.length; i++) if (cycle[i] < cycle[min]) min = i;
  return [...cycle.slice(min), ...cycle.slice(0, min)];
}

function describeCycle(graph: StepGraph, cycle: number[]): GraphCycle {
  const closed = [...cycle, cycle[0]];
  let text = graph.ids[closed[0]];
  for (let k = 1; k < closed.length; k++) {
    const from = closed[k - 1];
    const to = closed[k];
    text += graph.fallbackFor[from] === to ? ` -fallback of→ ${graph.ids[to]}` : ` → ${graph.ids[to]}`;
  }
  return { stepIds: closed.map((i) => graph.ids[i]), text };
}

/** The steps form a cycle, so there is no order to run them in. */
export class WorkflowCycleError extends Error {
  override readonly name = 'WorkflowCycleError';
  constructor(readonly cycle: GraphCycle) {
    super(`dependency cycle: ${cycle.text}`);
  }
}

/**
 * Kahn's algorithm by layers: level 0 waits for nothing, level k waits only for steps in
 * levels below k. Steps keep their definition order inside a level.
 */
export function levelsOf(graph: StepGraph): number[][] {
  const n = graph.ids.length;
  const waiting = graph.dependencies.map((d) => d.length);
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) current.push(i);
  const levels: number[][] = [];
  let placed = 0;
  while (current.length > 0) {
    levels.push(current);
    placed += current.length;
    const next: number[] = [];
    for (const u of current) {
      for (const v of graph.dependents[u]) if (--waiting[v] === 0) next.push(v);
    }
    next.sort((a, b) => a - b);
    current = next;
  }
  if (placed < n) throw new WorkflowCycleError(findCycles(graph, 1)[0]);
  return levels;
}

/** Topological levels as step ids: the steps of one level can run in parallel. Throws WorkflowCycleError. */
export function topologicalLevels(workflow: WorkflowLike): string[][] {
  const graph = stepGraphOf(workflow);
  return levelsOf(graph).map((level) => level.map((i) => graph.ids[i]));
}

const orders = new WeakMap<StepGraph, readonly number[]>();

/** One valid run order (level by level), computed once per graph. Throws WorkflowCycleError. */
export function topologicalOrder(graph: StepGraph): readonly number[] {
  let order = orders.get(graph);
  if (order === undefined) {
    order = levelsOf(graph).flat();
    orders.set(graph, order);
  }
  return order;
}

function indexOrThrow(graph: StepGraph, stepId: string): number {
  const i = graph.indexOf.get(stepId);
  if (i === undefined) throw new Error(`unknown step "${stepId}"`);
  return i;
}

function reachable(start: number, edges: ReadonlyArray<readonly number[]>): Set<number> {
  const seen = new Set<number>();
  const stack = [...edges[start]];
  while (stack.length > 0) {
    const u = stack.pop() as number;
    if (seen.has(u)) continue;
    seen.add(u);
    for (const v of edges[u]) if (!seen.has(v)) stack.push(v);
  }
  return seen;
}

/** Steps that `stepId` waits for, directly or transitively (its results are readable from it). */
export function ancestorsOf(workflow: WorkflowLike, stepId: string): Set<string> {
  const graph = stepGraphOf(workflow);
  return new Set([...reachable(indexOrThrow(graph, stepId), graph.dependencies)].map((i) => graph.ids[i]));
}

/** Steps that wait for `stepId`, directly or transitively. */
export function descendantsOf(workflow: WorkflowLike, stepId: string): Set<string> {
  const graph = stepGraphOf(workflow);
  return new Set([...reachable(indexOrThrow(graph, stepId), graph.dependents)].map((i) => graph.ids[i]));
}

export interface CriticalPath {
  /** Sum of durations along the longest chain: the shortest possible wall time. */
  lengthMs: number;
  /** That chain, in run order. */
  stepIds: string[];
  /** Sum of all durations: the wall time of running the steps one after another. */
  totalMs: number;
}

/**
 * Longest duration-weighted chain through the graph. Steps without a duration count as 0 (pass
 * measured durations of a run, or expected ones for an estimate). `totalMs / lengthMs` is the
 * best parallel speed-up the shape allows. Throws WorkflowCycleError.
 */
export function criticalPath(workflow: WorkflowLike, durations: Readonly<Record<string, number>> | ReadonlyMap<string, number>): CriticalPath {
  const graph = stepGraphOf(workflow);
  const durationOf = (id: string): number => {
    const d =
      durations instanceof Map
        ? durations.get(id)
        : Object.prototype.hasOwnProperty.call(durations, id)
          ? (durations as Readonly<Record<string, number>>)[id]
          : undefined;
    return typeof d === 'number' && Number.isFinite(d) && d > 0 ? d : 0;
  };
  const n = graph.ids.length;
  const finish = new Array<number>(n).fill(0);
  const previous = new Array<number>(n).fill(-1);
  let totalMs = 0;
  let last = -1;
  for (const u of topologicalOrder(graph)) {
    const own = durationOf(graph.ids[u]);
    totalMs += own;
    let start = 0;
    for (const d of graph.dependencies[u]) {
      if (previous[u] === -1 || finish[d] > start) {
        start = finish[d];
        previous[u] = d;
      }
    }
    finish[u] = start + own;
    if (last === -1 || finish[u] >= finish[last]) last = u;
  }
  const stepIds: string[] = [];
  for (let u = last; u !== -1; u = previous[u]) stepIds.push(graph.ids[u]);
  return { lengthMs: last === -1 ? 0 : finish[last], stepIds: stepIds.reverse(), totalMs };
}

/**
 * The completed steps that have a `compensate` action, in the order to undo them: a step is
 * compensated before the steps it depended on.
 */
export function compensationOrder(workflow: WorkflowLike<GraphStep & Pick<WorkflowStep, 'compensate'>>, completedStepIds: Iterable<string>): string[] {
  const graph = stepGraphOf(workflow);
  const completed = new Set(completedStepIds);
  return [...topologicalOrder(graph)]
    .reverse()
    .filter((i) => completed.has(graph.ids[i]) && workflow.steps[i].compensate !== undefined)
    .map((i) => graph.ids[i]);
}
