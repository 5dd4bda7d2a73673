/**
 * A read-only directed graph laid out left to right (elkjs, see layout.ts), drawn with React Flow.
 *
 *   <LayeredGraph label="Learned workflow" nodes={[{ id: 'a', label: 'a', sublabel: 'git.clone', tone: 'completed' }]}
 *                 edges={[{ id: 'e', source: 'a', target: 'b', label: 'repo', dashed: true }]} height={360} />
 *
 * `label` is the container's aria-label (say what the graph shows). `layer` on every node pins
 * columns (workflowGraph sets it: parallel steps share one). `onNodeClick` receives a node id.
 * Re-layout happens when the nodes' ids/labels/layers or the edges change, not when only tones
 * change, so a run colouring its steps live does not make the graph jump.
 */
import '@xyflow/react/dist/style.css';
import { Background, Controls, Handle, MarkerType, Position as HandlePosition, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { layoutGraph, type Position } from './layout';

export type NodeTone = 'default' | 'running' | 'completed' | 'failed' | 'skipped' | 'pending' | 'cancelled';

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
}

/** Border and background per tone: dark text on light fills keeps the contrast readable. */
export const TONE_COLOURS: Record<NodeTone, { border: string; background: string }> = {
  default: { border: '#495057', background: '#ffffff' },
  pending: { border: '#868e96', background: '#f1f3f5' },
  running: { border: '#1864ab', background: '#d0ebff' },
  completed: { border: '#2b8a3e', background: '#d3f9d8' },
  failed: { border: '#c92a2a', background: '#ffe3e3' },
  skipped: { border: '#868e96', background: '#f8f9fa' },
  cancelled: { border: '#e67700', background: '#fff3bf' },
};

const NODE_HEIGHT = 56;

/** Wide enough for the longer of the two lines (about 7 px a character at 13 px). */
function nodeWidth(n: GraphNode): number {
  return Math.min(320, Math.max(120, 24 + 7 * Math.max(n.label.length, n.sublabel?.length ?? 0)));
}

type StepNodeData = { label: string; sublabel?: string; tone: NodeTone };

function StepNode({ data, width }: NodeProps<Node<StepNodeData>>) {
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
      <Handle type="target" position={HandlePosition.Left} isConnectable={false} style={{ visibility: 'hidden' }} />
      <div style={{ fontWeight: 600, whiteSpace: 'nowrap', textOverflow: 'ellipsis', overflow: 'hidden' }}>{data.label}</div>
      {data.sublabel && <div style={{ whiteSpace: 'nowrap', textOverflow: 'ellipsis', overflow: 'hidden' }}>{data.sublabel}</div>}
      <Handle type="source" position={HandlePosition.Right} isConnectable={false} style={{ visibility: 'hidden' }} />
    </div>
  );
}

const NODE_TYPES = { step: StepNode };

export function LayeredGraph({ nodes, edges, label, height = 420, onNodeClick }: { nodes: GraphNode[]; edges: GraphEdge[]; label: string; height?: number; onNodeClick?: (id: string) => void }) {
  // The shape only (ids, sizes, layers, edges): tones change without a new layout.
  const shape = JSON.stringify([nodes.map((n) => [n.id, nodeWidth(n), n.layer]), edges.map((e) => [e.id, e.source, e.target])]);
  const [layout, setLayout] = useState<{ shape: string; positions: Map<string, Position> } | null>(null);

  useEffect(() => {
    let current = true;
    const [ns, es] = JSON.parse(shape) as [Array<[string, number, number | undefined]>, Array<[string, string, string]>];
    layoutGraph(
      ns.map(([id, width, layer]) => ({ id, width, height: NODE_HEIGHT, ...(layer === undefined || layer === null ? {} : { layer }) })),
      es.map(([id, source, target]) => ({ id, source, target })),
    ).then(
      (positions) => current && setLayout({ shape, positions }),
      // A layout that fails still draws: every node in one column.
      () => current && setLayout({ shape, positions: new Map(ns.map(([id], i) => [id, { x: 0, y: i * (NODE_HEIGHT + 24) }])) }),
    );
    return () => {
      current = false;
    };
  }, [shape]);

  const flowNodes = useMemo<Array<Node<StepNodeData>>>(
    () =>
      layout
        ? nodes.map((n) => ({
            id: n.id,
            type: 'step',
            position: layout.positions.get(n.id) ?? { x: 0, y: 0 },
            width: nodeWidth(n),
            height: NODE_HEIGHT,
            data: { label: n.label, sublabel: n.sublabel, tone: n.tone ?? 'default' },
          }))
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
        markerEnd: { type: MarkerType.ArrowClosed, color: e.dashed ? '#1864ab' : '#495057' },
        style: { stroke: e.dashed ? '#1864ab' : '#495057', strokeWidth: 1.5, ...(e.dashed ? { strokeDasharray: '6 4' } : {}) },
        labelStyle: { fill: '#212529', fontSize: 12 },
        labelBgStyle: { fill: '#ffffff' },
      })),
    [edges],
  );

  return (
    <div role="group" aria-label={label} style={{ height, width: '100%', border: '1px solid #dee2e6', borderRadius: 8 }}>
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
          onNodeClick={onNodeClick ? (_, node) => onNodeClick(node.id) : undefined}
          // The page scrolls over the graph; zoom with the controls or a pinch.
          zoomOnScroll={false}
          preventScrolling={false}
          proOptions={{ hideAttribution: true }}
          minZoom={0.2}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      )}
    </div>
  );
}
