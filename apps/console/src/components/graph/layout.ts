/**
 * Layered (left-to-right) layout of a directed graph with elkjs, for LayeredGraph.
 *
 *   const positions = await layoutGraph([{ id: 'a', width: 160, height: 56 }, ...], [{ id: 'e1', source: 'a', target: 'b' }]);
 *   positions.get('a') // → { x, y } (top-left corner)
 *
 * `layer` (optional, 0-based) pins nodes of the same value into the same column, in order: steps
 * that run in parallel stay side by side even when ELK would shift one to shorten an edge.
 *
 * ELK runs in a Web Worker (elkWorker.ts) so laying out a large graph does not freeze the page;
 * where there is no `Worker` (jsdom in the component tests) or the worker cannot start, it runs
 * on the main thread (`layoutEngine()` says which). `prepareLayout()` starts it before a graph
 * is there: LayeredGraph calls it when its chunk loads, while the page still waits for its data.
 */
import type { ElkNode, LayoutOptions } from 'elkjs/lib/elk-api';

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
  layer?: number;
}

export interface LayoutEdge {
  id: string;
  source: string;
  target: string;
}

export interface Position {
  x: number;
  y: number;
}

export type LayoutEngine = 'worker' | 'main-thread';

interface Engine {
  layout: (graph: ElkNode) => Promise<ElkNode>;
}

let engine: Promise<Engine> | undefined;
let kind: LayoutEngine = typeof Worker === 'undefined' ? 'main-thread' : 'worker';

/** Where layouts run: in a worker when the runtime has them and it started, else on the main thread. */
export function layoutEngine(): LayoutEngine {
  return kind;
}

/**
 * Starts the worker (its script and ELK's own start-up) so the first layout does not wait for it.
 * Nothing on the main thread: there a warm-up would only hold up the page. When the worker has
 * laid out a first tiny graph, the User Timing measure `toolpath:graph-engine-ready` says how long
 * that took (read by bench/console-graphs.bench.ts).
 */
export function prepareLayout(): void {
  if (kind !== 'worker' || engine) return;
  const start = performance.now();
  void started()
    .then((e) => e.layout(WARM_UP))
    .then(
      () => performance.measure('toolpath:graph-engine-ready', { start, end: performance.now(), detail: { engine: kind } }),
      () => undefined,
    );
}

export async function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[]): Promise<Map<string, Position>> {
  const partitioned = nodes.length > 0 && nodes.every((n) => n.layer !== undefined);
  try {
    return await run(nodes, edges, partitioned);
  } catch (err) {
    // Layers that contradict an edge: lay out without them rather than draw nothing.
    if (partitioned) return run(nodes, edges, false);
    throw err;
  }
}

/**
 * React Flow draws the edges itself (from the node positions), so ELK's edge routes are not used:
 * polyline routing is its cheapest router (splines cost a fifth more on a 500-node graph).
 */
const OPTIONS: LayoutOptions = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.spacing.nodeNode': '32',
  'elk.layered.spacing.nodeNodeBetweenLayers': '64',
  'elk.edgeRouting': 'POLYLINE',
};

/**
 * With layers given (every node's `layer`), ELK's layering only has to respect them: the longest
 * path does, in linear time, where the default (network simplex) iterates over the whole graph.
 */
const PARTITIONED: LayoutOptions = { 'elk.partitioning.activate': 'true', 'elk.layered.layering.strategy': 'LONGEST_PATH' };

/** A tiny graph laid out once at start: ELK's classes load and initialise before the real graph comes. */
const WARM_UP: ElkNode = {
  id: 'root',
  layoutOptions: { ...OPTIONS, ...PARTITIONED },
  children: ['a', 'b', 'c'].map((id, i) => ({ id, width: 120, height: 56, layoutOptions: { 'elk.partitioning.partition': String(Math.min(i, 1)) } })),
  edges: [
    { id: 'ab', sources: ['a'], targets: ['b'] },
    { id: 'ac', sources: ['a'], targets: ['c'] },
  ],
};

async function run(nodes: LayoutNode[], edges: LayoutEdge[], partitioned: boolean): Promise<Map<string, Position>> {
  const ids = new Set(nodes.map((n) => n.id));
  const graph = await layout({
    id: 'root',
    layoutOptions: { ...OPTIONS, ...(partitioned ? PARTITIONED : {}) },
    children: nodes.map((n) => ({
      id: n.id,
      width: n.width,
      height: n.height,
      ...(partitioned ? { layoutOptions: { 'elk.partitioning.partition': String(n.layer) } } : {}),
    })),
    // An edge to a node that is not drawn would make ELK throw: leave it out.
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target).map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const positions = new Map<string, Position>();
  for (const child of graph.children ?? []) positions.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  return positions;
}

async function layout(graph: ElkNode): Promise<ElkNode> {
  const e = await started();
  try {
    return await e.layout(graph);
  } catch (err) {
    if (!(err instanceof WorkerFailed)) throw err;
    // The worker could not run: the main thread lays this graph and the next ones out.
    engine = mainThread();
    kind = 'main-thread';
    return (await engine).layout(graph);
  }
}

class WorkerFailed extends Error {}

function started(): Promise<Engine> {
  engine ??=
    kind === 'worker'
      ? inWorker().catch(() => {
          // Its module did not load, or the browser refused to create it.
          kind = 'main-thread';
          return mainThread();
        })
      : mainThread();
  return engine;
}

async function mainThread(): Promise<Engine> {
  const { default: ELK } = await import('elkjs/lib/elk.bundled.js');
  const elk = new ELK({ algorithms: ['layered'] });
  return { layout: (graph) => elk.layout(graph) };
}

async function inWorker(): Promise<Engine> {
  const { createWorkerElk } = await import('./elkWorker');
  const { elk, broken } = createWorkerElk();
  const failed = broken.catch((err: unknown) => {
    throw new WorkerFailed(err instanceof Error ? err.message : String(err));
  });
  failed.catch(() => undefined);
  return { layout: (graph) => Promise.race([elk.layout(graph), failed]) };
}
