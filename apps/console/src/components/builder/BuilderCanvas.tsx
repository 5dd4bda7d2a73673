/**
 * The builder's editable graph (React Flow): a node per step at its stored position, an edge per
 * `dependsOn`. Drag a node to move it; drag from a node's right handle to another node's left one
 * to make the second wait for the first; select a node or an edge and press Delete (or Backspace)
 * to remove it. Steps with errors get a red outline and a badge giving their count.
 *
 *   <BuilderCanvas steps={definition.steps} positions={positions} selected="fetch" errorCounts={new Map([['fetch', 2]])}
 *                  onMove={…} onSelect={…} onConnect={(source, target) => …} onDisconnect={…} onDelete={…} />
 *
 * Every change goes back through the callbacks: the page owns the definition and the positions.
 */
import '@xyflow/react/dist/style.css';
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position as HandlePosition,
  ReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type NodeProps,
  type Viewport,
} from '@xyflow/react';
import { useCallback, useMemo, useRef, useState } from 'react';
import { TONE_COLOURS } from '../graph/LayeredGraph';
import type { CanvasPosition } from './canvasApi';
import { edgeId, parseEdgeId, type Step } from './definition';
import { NODE_HEIGHT, NODE_WIDTH } from './nodeSize';


type StepNodeData = { id: string; tool: string; errors: number; selected: boolean };

function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  const colours = data.errors > 0 ? TONE_COLOURS.failed : TONE_COLOURS.default;
  return (
    <div
      style={{
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        boxSizing: 'border-box',
        border: `${data.selected ? 3 : 2}px solid ${data.selected && data.errors === 0 ? '#1864ab' : colours.border}`,
        background: colours.background,
        color: '#212529',
        borderRadius: 6,
        padding: '6px 10px',
        fontSize: 13,
        position: 'relative',
      }}
    >
      <Handle type="target" position={HandlePosition.Left} />
      <div style={{ fontWeight: 600, whiteSpace: 'nowrap', textOverflow: 'ellipsis', overflow: 'hidden' }}>{data.id}</div>
      <div style={{ whiteSpace: 'nowrap', textOverflow: 'ellipsis', overflow: 'hidden' }}>{data.tool}</div>
      {data.errors > 0 && (
        <span
          role="img"
          aria-label={`${data.errors} error${data.errors === 1 ? '' : 's'}`}
          title={`${data.errors} error${data.errors === 1 ? '' : 's'}`}
          style={{ position: 'absolute', top: -9, right: -9, minWidth: 20, height: 20, borderRadius: 10, background: '#c92a2a', color: '#ffffff', fontSize: 12, fontWeight: 700, lineHeight: '20px', textAlign: 'center' }}
        >
          {data.errors}
        </span>
      )}
      <Handle type="source" position={HandlePosition.Right} />
    </div>
  );
}

const NODE_TYPES = { step: StepNode };
const ORIGIN = { x: 0, y: 0 };

export interface BuilderCanvasProps {
  steps: Step[];
  positions: Record<string, CanvasPosition>;
  selected: string | null;
  errorCounts: Map<string, number>;
  label: string;
  defaultViewport?: Viewport;
  onMove: (id: string, position: CanvasPosition) => void;
  onSelect: (id: string | null) => void;
  onConnect: (source: string, target: string) => void;
  onDisconnect: (source: string, target: string) => void;
  onDelete: (id: string) => void;
  onViewport?: (viewport: Viewport) => void;
}

export function BuilderCanvas({ steps, positions, selected, errorCounts, label, defaultViewport, onMove, onSelect, onConnect, onDisconnect, onDelete, onViewport }: BuilderCanvasProps) {
  const [selectedEdge, setSelectedEdge] = useState<string | null>(null);

  // Node and edge objects are reused while what they draw is unchanged: React Flow then redraws
  // only the steps an edit touched, not all of them at each keystroke in the panel.
  const nodeCache = useRef(new Map<string, Node<StepNodeData>>());
  const nodes = useMemo(() => {
    const next = new Map<string, Node<StepNodeData>>();
    const list = steps.map((s) => {
      const position = positions[s.id] ?? ORIGIN;
      const errors = errorCounts.get(s.id) ?? 0;
      const isSelected = s.id === selected;
      const before = nodeCache.current.get(s.id);
      const node =
        before && before.position === position && before.data.tool === s.tool && before.data.errors === errors && before.selected === isSelected
          ? before
          : {
              id: s.id,
              type: 'step',
              position,
              width: NODE_WIDTH,
              height: NODE_HEIGHT,
              selected: isSelected,
              ariaLabel: `Step ${s.id}, ${s.tool}${errors ? `, ${errors} error${errors === 1 ? '' : 's'}` : ''}`,
              data: { id: s.id, tool: s.tool, errors, selected: isSelected },
            };
      next.set(s.id, node);
      return node;
    });
    nodeCache.current = next;
    return list;
  }, [steps, positions, selected, errorCounts]);
  const edgeCache = useRef(new Map<string, Edge>());
  const edges = useMemo(() => {
    const next = new Map<string, Edge>();
    const list = steps.flatMap((s) =>
      (s.dependsOn ?? []).map((dep) => {
        const id = edgeId(dep, s.id);
        const chosen = id === selectedEdge;
        const before = edgeCache.current.get(id);
        const edge =
          before && before.selected === chosen
            ? before
            : {
                id,
                source: dep,
                target: s.id,
                selected: chosen,
                ariaLabel: `${s.id} waits for ${dep}`,
                markerEnd: { type: MarkerType.ArrowClosed, color: chosen ? '#1864ab' : '#495057' },
                style: { stroke: chosen ? '#1864ab' : '#495057', strokeWidth: chosen ? 3 : 1.5 },
              };
        next.set(id, edge);
        return edge;
      }),
    );
    edgeCache.current = next;
    return list;
  }, [steps, selectedEdge]);

  const onNodesChange = useCallback(
    (changes: Array<NodeChange<Node<StepNodeData>>>) => {
      for (const c of changes) {
        if (c.type === 'position' && c.position) onMove(c.id, c.position);
        else if (c.type === 'select' && c.selected) {
          onSelect(c.id);
          setSelectedEdge(null);
        } else if (c.type === 'remove') onDelete(c.id);
      }
    },
    [onMove, onSelect, onDelete],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      for (const c of changes) {
        if (c.type === 'select') setSelectedEdge((now) => (c.selected ? c.id : now === c.id ? null : now));
        else if (c.type === 'remove') {
          const edge = parseEdgeId(c.id);
          if (edge) onDisconnect(edge.source, edge.target);
        }
      }
    },
    [onDisconnect],
  );
  const connect = useCallback((c: Connection) => c.source && c.target && onConnect(c.source, c.target), [onConnect]);

  return (
    <div role="group" aria-label={label} style={{ height: 520, width: '100%', border: '1px solid #dee2e6', borderRadius: 8 }}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={connect}
        onPaneClick={() => {
          onSelect(null);
          setSelectedEdge(null);
        }}
        onMoveEnd={(_, viewport) => onViewport?.(viewport)}
        deleteKeyCode={['Delete', 'Backspace']}
        {...(defaultViewport ? { defaultViewport } : { fitView: true, fitViewOptions: { maxZoom: 1 } })}
        // The page scrolls over the canvas; zoom with the controls, a pinch or Ctrl+wheel.
        zoomOnScroll={false}
        preventScrolling={false}
        proOptions={{ hideAttribution: true }}
        minZoom={0.2}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
