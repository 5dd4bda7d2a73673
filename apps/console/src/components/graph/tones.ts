/**
 * A step's state as a node's colours, shared by the graphs (LayeredGraph, the builder) and the
 * timelines (a session's calls, a run's Gantt). Its own module: a page that only colours a
 * timeline does not load React Flow nor start the layout worker (LayeredGraph does both).
 */
export type NodeTone = 'default' | 'running' | 'completed' | 'failed' | 'skipped' | 'pending' | 'cancelled';

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
