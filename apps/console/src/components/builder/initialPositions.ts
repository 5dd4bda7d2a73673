/**
 * Where each step is drawn when the builder opens: the stored canvas's positions; when none is
 * stored, a layered layout (components/graph/layout.ts, parallel steps in one column); steps the
 * canvas does not know (added by another version or through the API) in a column to the right.
 *
 *   const positions = await initialPositions(definition, canvas.nodes);
 */
import { layoutGraph } from '../graph/layout';
import { workflowGraph } from '../graph/workflowGraph';
import type { CanvasPosition } from './canvasApi';
import type { Definition } from './definition';
import { NODE_HEIGHT, NODE_WIDTH } from './nodeSize';

const GAP = 40;

export async function initialPositions(definition: Definition, stored: Record<string, CanvasPosition>): Promise<Record<string, CanvasPosition>> {
  const known = definition.steps.filter((s) => stored[s.id]);
  if (known.length === 0) return layered(definition);
  const positions: Record<string, CanvasPosition> = Object.fromEntries(known.map((s) => [s.id, stored[s.id]]));
  const missing = definition.steps.filter((s) => !stored[s.id]);
  const right = Math.max(...known.map((s) => stored[s.id].x)) + NODE_WIDTH + GAP * 2;
  const top = Math.min(...known.map((s) => stored[s.id].y));
  missing.forEach((s, i) => (positions[s.id] = { x: right, y: top + i * (NODE_HEIGHT + GAP) }));
  return positions;
}

/** Where a step added from the palette goes: right of the selected step, or right of everything, clear of the others. */
export function placeNew(positions: Record<string, CanvasPosition>, near: string | null): CanvasPosition {
  const all = Object.values(positions);
  if (all.length === 0) return { x: 0, y: 0 };
  const anchor = near && positions[near] ? positions[near] : { x: Math.max(...all.map((p) => p.x)), y: Math.min(...all.map((p) => p.y)) };
  const x = anchor.x + NODE_WIDTH + GAP * 2;
  let y = anchor.y;
  while (all.some((p) => Math.abs(p.x - x) < NODE_WIDTH && Math.abs(p.y - y) < NODE_HEIGHT + GAP / 2)) y += NODE_HEIGHT + GAP;
  return { x, y };
}

async function layered(definition: Definition): Promise<Record<string, CanvasPosition>> {
  const graph = workflowGraph(definition);
  const edges = graph.edges.filter((e) => e.id.startsWith('dep:'));
  try {
    const laid = await layoutGraph(
      graph.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT, ...(n.layer !== undefined ? { layer: n.layer } : {}) })),
      edges.map((e) => ({ id: e.id, source: e.source, target: e.target })),
    );
    return Object.fromEntries(definition.steps.map((s, i) => [s.id, laid.get(s.id) ?? column(i)]));
  } catch {
    // No layout (a worker that failed to start, a graph ELK refuses): one column still draws.
    return Object.fromEntries(definition.steps.map((s, i) => [s.id, column(i)]));
  }
}

const column = (i: number): CanvasPosition => ({ x: 0, y: i * (NODE_HEIGHT + GAP) });
