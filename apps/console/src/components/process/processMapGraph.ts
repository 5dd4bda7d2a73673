/**
 * The directly-follows graph of `/stats/flow` as a graph for LayeredGraph (pure; no React).
 *
 *   const { nodes, edges } = processMapGraph(flow, 40); // <LayeredGraph nodes={nodes} edges={edges} label="…" />
 *
 * - the `maxNodes` most frequent tools are drawn (more make an unreadable map; the page tables
 *   every transition), each with its call count; a tool following itself is said in its sublabel
 *   ("repeats N"), not drawn as an edge;
 * - every transition between drawn tools is an edge labelled with its count and mean gap;
 * - a dense map (more than DENSE edges per tool) is laid out along its most frequent transitions
 *   only: each tool's LAYOUT_OUT most frequent ways out and its most frequent way in. The other
 *   edges are still drawn (`layout: false`). A layered layout puts a placeholder on every column
 *   an edge crosses; with hundreds of edges skipping many columns that is thousands of them, and
 *   seconds of layout, for a drawing no easier to read.
 */
import type { ApiSchemas } from '@toolpath/api-client';
import { duration } from '../figures';
import type { GraphEdge, GraphNode } from '../graph/LayeredGraph';

type Flow = Pick<ApiSchemas['FlowStats'], 'activities' | 'edges'>;

const DENSE = 3;
const LAYOUT_OUT = 2;

export function processMapGraph(flow: Flow, maxNodes: number): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const activities = flow.activities.slice(0, maxNodes);
  const drawn = new Set(activities.map((a) => a.tool));
  const loops = new Map(flow.edges.filter((e) => e.from === e.to).map((e) => [e.from, e.count]));
  const nodes: GraphNode[] = activities.map((a) => ({ id: a.tool, label: a.tool, sublabel: `${a.count} calls${loops.has(a.tool) ? ` · repeats ${loops.get(a.tool)}` : ''}` }));
  // Most frequent first (as the API sends them; sorted again so the choice below does not depend on it).
  const between = flow.edges.filter((e) => e.from !== e.to && drawn.has(e.from) && drawn.has(e.to)).sort((a, b) => b.count - a.count);
  const laidOut = between.length > DENSE * nodes.length ? mostFrequent(between) : null;
  const edges: GraphEdge[] = between.map((e) => {
    const id = `${e.from}->${e.to}`;
    return { id, source: e.from, target: e.to, label: `${e.count} · ${duration(e.meanGapMs)}`, ...(laidOut && !laidOut.has(id) ? { layout: false } : {}) };
  });
  return { nodes, edges };
}

/** Ids of each tool's LAYOUT_OUT most frequent outgoing transitions and its most frequent incoming one (`edges` most frequent first). */
function mostFrequent(edges: Flow['edges']): Set<string> {
  const out = new Map<string, number>();
  const into = new Set<string>();
  const kept = new Set<string>();
  for (const e of edges) {
    const id = `${e.from}->${e.to}`;
    if ((out.get(e.from) ?? 0) < LAYOUT_OUT) {
      out.set(e.from, (out.get(e.from) ?? 0) + 1);
      kept.add(id);
    }
    if (!into.has(e.to)) {
      into.add(e.to);
      kept.add(id);
    }
  }
  return kept;
}
