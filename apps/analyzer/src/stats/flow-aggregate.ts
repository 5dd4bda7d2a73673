import { DurationSketch, type LogResolution } from '@toolpath/mining';

/** Activity name for tools past the dictionary's bound (and for nothing else). */
export const OTHER_TOOL = '(other)';
/** Distinct tool names per tenant; later ones are counted as OTHER_TOOL. */
export const MAX_TOOLS = 4095;
/** Edge key = from × EDGE_KEY + to (tool ids are below it). */
const EDGE_KEY = MAX_TOOLS + 1;

/** Tool names ↔ small integer ids, bounded; id 0 is OTHER_TOOL. */
export class ToolDictionary {
  readonly names: string[] = [OTHER_TOOL];
  private readonly ids = new Map<string, number>();

  idOf(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    if (this.names.length > MAX_TOOLS) return 0;
    id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    return id;
  }

  /** The id of a name already known, or undefined (never adds). */
  find(name: string): number | undefined {
    return name === OTHER_TOOL ? 0 : this.ids.get(name);
  }

  get overflowed(): boolean {
    return this.names.length > MAX_TOOLS;
  }

  static fromNames(names: string[]): ToolDictionary {
    const d = new ToolDictionary();
    for (const n of names.slice(1)) d.idOf(n);
    return d;
  }
}

/** One closed session as the process map reads it: tool ids in session order and the gaps between them. */
export interface SessionFlow {
  tools: number[];
  /** gaps[i] = time between call i and call i+1 (ms, floored at 0). */
  gaps: number[];
  /** Gap buckets at the aggregate's resolution (computed once per session, per resolution). */
  fine: number[];
  coarse: number[];
  /** The session lost calls past the per-session step bound. */
  truncated: boolean;
}

export interface EdgeAcc {
  count: number;
  gapSum: number;
  sketch: DurationSketch;
}

export interface FlowAggregateJson {
  /** sessions, transitions left out (edge bound), sessions truncated */
  n: [number, number, number];
  /** [toolId, count, …] */
  a: number[];
  s: number[];
  e: number[];
  /** [edgeKey, count, gapSum, sketch pairs] */
  g: Array<[number, number, number, number[]]>;
}

/** The view of one edge (tool names resolved). */
export interface FlowEdgeView {
  from: string;
  to: string;
  count: number;
  meanGapMs: number;
  p95GapMs: number;
}

export interface FlowGraphView {
  sessions: number;
  activities: Array<{ tool: string; count: number }>;
  edges: FlowEdgeView[];
  starts: Array<{ tool: string; count: number }>;
  ends: Array<{ tool: string; count: number }>;
}

/**
 * A directly-follows graph with its counts over some of a tenant's sessions: activity occurrences,
 * start and end activities, and per edge (a call of `a` directly followed by a call of `b` in the
 * same session) its count, the sum of its gaps (an exact mean) and a sketch of them (p95).
 * Bounded: at most `maxEdges` distinct edges; transitions of further new edges are counted as
 * left out, so an answer can say it is incomplete.
 */
export class FlowAggregate {
  sessions = 0;
  /** Transitions not counted because the aggregate already held maxEdges edges. */
  droppedTransitions = 0;
  /** Sessions that lost calls past the per-session step bound (their graph is cut short). */
  truncatedSessions = 0;
  readonly activities = new Map<number, number>();
  readonly starts = new Map<number, number>();
  readonly ends = new Map<number, number>();
  readonly edges = new Map<number, EdgeAcc>();

  constructor(
    readonly resolution: LogResolution,
    readonly maxEdges: number,
  ) {}

  add(f: SessionFlow, buckets: number[]): void {
    const n = f.tools.length;
    if (n === 0) return;
    this.sessions++;
    if (f.truncated) this.truncatedSessions++;
    inc(this.starts, f.tools[0], 1);
    inc(this.ends, f.tools[n - 1], 1);
    for (let i = 0; i < n; i++) inc(this.activities, f.tools[i], 1);
    for (let i = 0; i + 1 < n; i++) {
      const key = f.tools[i] * EDGE_KEY + f.tools[i + 1];
      let e = this.edges.get(key);
      if (!e) {
        if (this.edges.size >= this.maxEdges) {
          this.droppedTransitions++;
          continue;
        }
        this.edges.set(key, (e = { count: 0, gapSum: 0, sketch: new DurationSketch() }));
      }
      e.count++;
      e.gapSum += f.gaps[i];
      e.sketch.addBucket(buckets[i]);
    }
  }

  /** Adds another aggregate of the same resolution (a query over several time buckets). */
  merge(o: FlowAggregate): void {
    this.sessions += o.sessions;
    this.droppedTransitions += o.droppedTransitions;
    this.truncatedSessions += o.truncatedSessions;
    for (const [k, c] of o.activities) inc(this.activities, k, c);
    for (const [k, c] of o.starts) inc(this.starts, k, c);
    for (const [k, c] of o.ends) inc(this.ends, k, c);
    for (const [k, oe] of o.edges) {
      let e = this.edges.get(k);
      if (!e) {
        if (this.edges.size >= this.maxEdges) {
          this.droppedTransitions += oe.count;
          continue;
        }
        this.edges.set(k, (e = { count: 0, gapSum: 0, sketch: new DurationSketch() }));
      }
      e.count += oe.count;
      e.gapSum += oe.gapSum;
      e.sketch.merge(oe.sketch);
    }
  }

  view(names: string[]): FlowGraphView {
    const tool = (id: number) => names[id] ?? OTHER_TOOL;
    const list = (m: Map<number, number>) =>
      [...m].map(([id, count]) => ({ tool: tool(id), count })).sort((a, b) => b.count - a.count || (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0));
    const edges = [...this.edges].map(([key, e]) => ({
      from: tool(Math.floor(key / EDGE_KEY)),
      to: tool(key % EDGE_KEY),
      count: e.count,
      meanGapMs: round(e.gapSum / e.count),
      p95GapMs: round(e.sketch.quantile(0.95, this.resolution)),
    }));
    edges.sort((a, b) => b.count - a.count || cmp(a.from, b.from) || cmp(a.to, b.to));
    return { sessions: this.sessions, activities: list(this.activities), edges, starts: list(this.starts), ends: list(this.ends) };
  }

  toJSON(): FlowAggregateJson {
    return {
      n: [this.sessions, this.droppedTransitions, this.truncatedSessions],
      a: flat(this.activities),
      s: flat(this.starts),
      e: flat(this.ends),
      g: [...this.edges].map(([k, e]) => [k, e.count, e.gapSum, e.sketch.toJSON()]),
    };
  }

  static fromJSON(j: FlowAggregateJson, resolution: LogResolution, maxEdges: number): FlowAggregate {
    const a = new FlowAggregate(resolution, maxEdges);
    [a.sessions, a.droppedTransitions, a.truncatedSessions] = j.n;
    unflat(j.a, a.activities);
    unflat(j.s, a.starts);
    unflat(j.e, a.ends);
    for (const [k, count, gapSum, sketch] of j.g) a.edges.set(k, { count, gapSum, sketch: DurationSketch.fromJSON(sketch) });
    return a;
  }
}

function inc(m: Map<number, number>, k: number, by: number): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

function flat(m: Map<number, number>): number[] {
  const out: number[] = [];
  for (const [k, c] of m) out.push(k, c);
  return out;
}

function unflat(pairs: number[], into: Map<number, number>): void {
  for (let i = 0; i + 1 < pairs.length; i += 2) into.set(pairs[i], pairs[i + 1]);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
