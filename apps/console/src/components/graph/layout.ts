/**
 * Layered (left-to-right) layout of a directed graph with elkjs, for LayeredGraph.
 *
 *   const positions = await layoutGraph([{ id: 'a', width: 160, height: 56 }, ...], [{ id: 'e1', source: 'a', target: 'b' }]);
 *   positions.get('a') // → { x, y } (top-left corner)
 *
 * `layer` (optional, 0-based) pins nodes of the same value into the same column, in order: steps
 * that run in parallel stay side by side even when ELK would shift one to shorten an edge.
 */
import ELK from 'elkjs/lib/elk.bundled.js';

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

const elk = new ELK();

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

async function run(nodes: LayoutNode[], edges: LayoutEdge[], partitioned: boolean): Promise<Map<string, Position>> {
  const ids = new Set(nodes.map((n) => n.id));
  const graph = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '32',
      'elk.layered.spacing.nodeNodeBetweenLayers': '64',
      'elk.edgeRouting': 'SPLINES',
      ...(partitioned ? { 'elk.partitioning.activate': 'true' } : {}),
    },
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
