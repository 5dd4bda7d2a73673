/**
 * A read-only directed graph laid out left to right (elkjs, see layout.ts), drawn with React Flow.
 *
 *   <LayeredGraph label="Learned workflow" nodes={[{ id: 'a', label: 'a', sublabel: 'git.clone', tone: 'completed' }]}
 *                 edges={[{ id: 'e', source: 'a', target: 'b', label: 'repo', dashed: true }]} height={360} />
 *
 * `label` is the container's aria-label (say what the graph shows). `layer` on every node pins
 * columns (workflowGraph sets it: parallel steps share one). An edge with `layout: false` is drawn
 * but not laid out along (see processMapGraph). `onNodeClick` receives a node id.
 * Re-layout happens when the nodes' ids/labels/layers or the edges change, not when only tones
 * change, so a run colouring its steps live does not make the graph jump.
 *
 * Large graphs (hundreds of nodes): the layout runs in a worker; every node has a fixed size and
 * its two handles' places, so React Flow draws the edges and fits the view in its first render,
 * without measuring the nodes first.
 * Two User Timing measures say what a graph costs (read by bench/console-graphs.bench.ts), both
 * from the moment this component receives a graph of a new shape, with `detail` { label, nodes,
 * edges, engine }: `toolpath:graph-layout` to its positions known, `toolpath:graph-drawn` to
 * every node and edge in the page (checked at each animation frame, as a browser paints).
 */
import '@xyflow/react/dist/style.css';
import { Background, Controls, Handle, MarkerType, Position as HandlePosition, ReactFlow, type Edge, type Node, type NodeHandle, type NodeProps } from '@xyflow/react';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { layoutEngine, layoutGraph, prepareLayout, type Position } from './layout';
import { TONE_COLOURS, type NodeTone } from './tones';

export { TONE_COLOURS, type NodeTone } from './tones';

export interface GraphNode {
  id: string;
  label: string;
  sublabel?: string;
  tone?: NodeTone;
  /** 0-based column; set on every node or on none */
  layer?: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
  dashed?: boolean;
  /** false: drawn, but the layout does not follow it (a dense graph laid out along its main edges) */
  layout?: boolean;
}

// The layout engine starts with this chunk, while the page still waits for its data.
prepareLayout();

const NODE_HEIGHT = 56;

/** Wide enough for the longer of the two lines (about 7 px a character at 13 px). */
function nodeWidth(n: GraphNode): number {
  return Math.min(320, Math.max(120, 24 + 7 * Math.max(n.label.length, n.sublabel?.length ?? 0)));
}

/** Where React Flow finds a node's handles before measuring it (its default 6 px handle, centred on the left and right sides). */
function handles(width: number): NodeHandle[] {
  return [
    { id: null, type: 'target', position: HandlePosition.Left, x: -3, y: NODE_HEIGHT / 2 - 3, width: 6, height: 6 },
    { id: null, type: 'source', position: HandlePosition.Right, x: width - 3, y: NODE_HEIGHT / 2 - 3, width: 6, height: 6 },
  ];
}

type StepNodeData = { label: string; sublabel?: string; tone: NodeTone };

const HIDDEN_HANDLE = { visibility: 'hidden' } as const;
const ONE_LINE = { whiteSpace: 'nowrap', textOverflow: 'ellipsis', overflow: 'hidden' } as const;
const TITLE_LINE = { ...ONE_LINE, fontWeight: 600 } as const;

// memo: a node re-renders when its data changes (a tone during a run), not when another one does.
const StepNode = memo(function StepNode({ data, width }: NodeProps<Node<StepNodeData>>) {
  const colours = TONE_COLOURS[data.tone];
  return (
    <div
      style={{
        width,
        height: NODE_HEIGHT,
        boxSizing: 'border-box',
        border: `2px ${data.tone === 'skipped' ? 'dashed' : 'solid'} ${colours.border}`,
        background: colours.background,
        color: '#212529',
        borderRadius: 6,
        padding: '6px 10px',
        fontSize: 13,
        overflow: 'hidden',
      }}
      title={data.tone === 'default' ? undefined : data.tone}
    >
      <Handle type="target" position={HandlePosition.Left} isConnectable={false} style={HIDDEN_HANDLE} />
      <div style={TITLE_LINE}>{data.label}</div>
      {data.sublabel && <div style={ONE_LINE}>{data.sublabel}</div>}
      <Handle type="source" position={HandlePosition.Right} isConnectable={false} style={HIDDEN_HANDLE} />
    </div>
  );
});

const NODE_TYPES = { step: StepNode };

// Shared by every edge of a kind: hundreds of edges, a few objects.
const EDGE_LOOK = {
  solid: { markerEnd: { type: MarkerType.ArrowClosed, color: '#495057' }, style: { stroke: '#495057', strokeWidth: 1.5 } },
  dashed: { markerEnd: { type: MarkerType.ArrowClosed, color: '#1864ab' }, style: { stroke: '#1864ab', strokeWidth: 1.5, strokeDasharray: '6 4' } },
};
const LABEL_STYLE = { fill: '#212529', fontSize: 12 };
const LABEL_BG_STYLE = { fill: '#ffffff' };
const PRO_OPTIONS = { hideAttribution: true };

/** Gives up waiting for React Flow to draw a graph after this long (nothing is recorded then). */
const DRAWN_WAIT_MS = 30_000;

interface Timing {
  label: string;
  nodes: number;
  edges: number;
  /** performance.now() when the graph came */
  since: number;
}

function measure(name: 'toolpath:graph-layout' | 'toolpath:graph-drawn', t: Timing): void {
  if (typeof performance === 'undefined' || typeof performance.measure !== 'function') return;
  performance.measure(name, { start: t.since, end: performance.now(), detail: { label: t.label, nodes: t.nodes, edges: t.edges, engine: layoutEngine() } });
}

export function LayeredGraph({ nodes, edges, label, height = 420, onNodeClick }: { nodes: GraphNode[]; edges: GraphEdge[]; label: string; height?: number; onNodeClick?: (id: string) => void }) {
  // The shape only (ids, sizes, layers, edges): tones change without a new layout.
  const shape = useMemo(() => JSON.stringify([nodes.map((n) => [n.id, nodeWidth(n), n.layer]), edges.filter((e) => e.layout !== false).map((e) => [e.id, e.source, e.target])]), [nodes, edges]);
  const [layout, setLayout] = useState<{ shape: string; positions: Map<string, Position> } | null>(null);
  const container = useRef<HTMLDivElement>(null);
  // When this shape came, and how much of it React Flow has to draw (edges between drawn nodes).
  const timing = useMemo<Timing>(() => {
    const ids = new Set(nodes.map((n) => n.id));
    return { label, nodes: nodes.length, edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).length, since: performance.now() };
    // Only a new shape starts a new measurement.
  }, [shape]);

  useEffect(() => {
    let current = true;
    const [ns, es] = JSON.parse(shape) as [Array<[string, number, number | undefined]>, Array<[string, string, string]>];
    layoutGraph(
      ns.map(([id, width, layer]) => ({ id, width, height: NODE_HEIGHT, ...(layer === undefined || layer === null ? {} : { layer }) })),
      es.map(([id, source, target]) => ({ id, source, target })),
    ).then(
      (positions) => {
        if (!current) return;
        measure('toolpath:graph-layout', timing);
        setLayout({ shape, positions });
      },
      // A layout that fails still draws: every node in one column.
      () => current && setLayout({ shape, positions: new Map(ns.map(([id], i) => [id, { x: 0, y: i * (NODE_HEIGHT + 24) }])) }),
    );
    return () => {
      current = false;
    };
  }, [shape, timing]);

  // Drawn: every node and edge is in the page (checked before each frame is painted).
  useEffect(() => {
    if (layout?.shape !== shape || typeof requestAnimationFrame === 'undefined') return;
    const until = performance.now() + DRAWN_WAIT_MS;
    let frame = requestAnimationFrame(function check() {
      const el = container.current;
      if (el && el.querySelectorAll('.react-flow__node').length >= timing.nodes && el.querySelectorAll('.react-flow__edge').length >= timing.edges) {
        measure('toolpath:graph-drawn', timing);
      } else if (performance.now() < until) {
        frame = requestAnimationFrame(check);
      }
    });
    return () => cancelAnimationFrame(frame);
  }, [layout, shape, timing]);

  const flowNodes = useMemo<Array<Node<StepNodeData>>>(
    () =>
      layout
        ? nodes.map((n) => {
            const width = nodeWidth(n);
            return {
              id: n.id,
              type: 'step',
              position: layout.positions.get(n.id) ?? { x: 0, y: 0 },
              width,
              height: NODE_HEIGHT,
              // Its size as drawn and its handles: React Flow needs no measuring pass (and second render) before edges and fitView.
              measured: { width, height: NODE_HEIGHT },
              handles: handles(width),
              data: { label: n.label, sublabel: n.sublabel, tone: n.tone ?? 'default' },
            };
          })
        : [],
    [layout, nodes],
  );
  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        label: e.label,
        ...(e.dashed ? EDGE_LOOK.dashed : EDGE_LOOK.solid),
        labelStyle: LABEL_STYLE,
        labelBgStyle: LABEL_BG_STYLE,
      })),
    [edges],
  );
  const nodeClick = useCallback((_: unknown, node: Node) => onNodeClick?.(node.id), [onNodeClick]);

  return (
    <div ref={container} role="group" aria-label={label} style={{ height, width: '100%', border: '1px solid #dee2e6', borderRadius: 8 }}>
      {layout && (
        <ReactFlow
          key={layout.shape}
          nodes={flowNodes}
          edges={flowEdges}
          nodeTypes={NODE_TYPES}
          fitView
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          edgesFocusable={false}
          nodesFocusable={false}
          onNodeClick={onNodeClick ? nodeClick : undefined}
          // The page scrolls over the graph; zoom with the controls or a pinch.
          zoomOnScroll={false}
          preventScrolling={false}
          proOptions={PRO_OPTIONS}
          minZoom={0.2}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      )}
    </div>
  );
}
