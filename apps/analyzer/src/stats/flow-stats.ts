import { decodeKeysetCursor, encodeKeysetCursor, type FlowBasis, type FlowStatsView, type VariantPageView, type VariantView } from '@toolpath/contracts';
import { COARSE_RESOLUTION as COARSE, FINE_RESOLUTION as FINE, type ClosedSession } from '@toolpath/mining';
import { FlowAggregate, MAX_TOOLS, ToolDictionary, type FlowAggregateJson, type FlowGraphView, type SessionFlow } from './flow-aggregate';
import { FlowTimeBuckets, type TimeBucketsJson } from './flow-time-buckets';
import { RecentSessions, type RecentSession, type RecentSessionsJson } from './recent-sessions';
import { MAX_VARIANT_TOOLS, MAX_VARIANTS, VariantTable, variantId, type VariantAcc, type VariantTableJson } from './variant-table';

/** Edges of the tenant's whole graph. */
export const MAX_EDGES_TOTAL = 20_000;
/** Edges per user / agent / intent aggregate. */
export const MAX_EDGES_PER_KEY = 2000;
/** Users, agents and intents with an aggregate of their own (the first ones seen); later ones are served by scans. */
export const MAX_KEYS: Record<Dimension, number> = { user: 100, agent: 100, intent: 200 };

/**
 * An answer stays well under NATS's max_payload (1 MB by default): a graph's rarest edges, and a
 * variant page's last items, are left out past this many bytes (said in the answer).
 */
export const ANSWER_BUDGET_BYTES = 512 * 1024;

export type Dimension = 'user' | 'agent' | 'intent';
const DIMENSIONS: Dimension[] = ['user', 'agent', 'intent'];

/** The filters of the process map; `intent` normalised, times as epoch ms, `to` exclusive. */
export interface FlowFilter {
  userId?: string;
  agentId?: string;
  intent?: string;
  from?: number;
  to?: number;
}

export interface FlowStatsJson {
  v: 1;
  tools: string[];
  missed: number;
  total: FlowAggregateJson;
  time: TimeBucketsJson;
  keys: Record<Dimension, { untracked: number; items: Array<[string, FlowAggregateJson]> }>;
  recent: RecentSessionsJson;
  variants: VariantTableJson;
}

interface Keyed {
  readonly map: Map<string, FlowAggregate>;
  /** Sessions with a value of this dimension that had no aggregate (served by scans only). */
  untracked: number;
}

/**
 * The process map of a tenant, maintained as sessions close: the directly-follows graph of all its
 * closed sessions, per period (FlowTimeBuckets), per user / agent / intent (the first MAX_KEYS of
 * each), the distinct variants (VariantTable), and the most recent sessions for every other
 * filter combination (RecentSessions). Every answer says what it was served from and whether it
 * is exact (`basis`); docs/ANALYZER.md "Process map" has the rules.
 */
export class FlowStats {
  private dict = new ToolDictionary();
  private total = new FlowAggregate(FINE, MAX_EDGES_TOTAL);
  private time = new FlowTimeBuckets();
  private readonly keys: Record<Dimension, Keyed> = { user: keyed(), agent: keyed(), intent: keyed() };
  private recent = new RecentSessions();
  private variantTable = new VariantTable();
  /** Sessions counted by the learning statistics before the process map existed in the tenant's state. */
  private missed = 0;

  /** Counts a closed session. `ok` and `intent` (normalised) as the learning statistics read them. */
  add(s: ClosedSession, ok: boolean, intent: string | undefined): void {
    const n = s.steps.length;
    if (n === 0) return;
    const tools = new Array<number>(n);
    const names = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      names[i] = s.steps[i].tool;
      tools[i] = this.dict.idOf(names[i]);
    }
    const gaps = new Array<number>(n - 1);
    const fine = new Array<number>(n - 1);
    const coarse = new Array<number>(n - 1);
    for (let i = 0; i + 1 < n; i++) {
      const a = s.steps[i];
      const g = Math.max(0, s.steps[i + 1].startedAt - (a.startedAt + Math.max(0, a.durationMs)));
      gaps[i] = Number.isFinite(g) ? g : 0;
      fine[i] = FINE.bucketOf(gaps[i]);
      coarse[i] = COARSE.bucketOf(gaps[i]);
    }
    const f: SessionFlow = { tools, gaps, fine, coarse, truncated: (s.droppedSteps ?? 0) > 0 };
    this.total.add(f, fine);
    this.time.add(s.startedAt, f);
    const values: Record<Dimension, string | undefined> = { user: s.userId, agent: s.agentId, intent: intent || undefined };
    for (const d of DIMENSIONS) {
      const v = values[d];
      if (v === undefined) continue;
      const k = this.keys[d];
      let agg = k.map.get(v);
      if (!agg && k.map.size < MAX_KEYS[d]) k.map.set(v, (agg = new FlowAggregate(COARSE, MAX_EDGES_PER_KEY)));
      if (agg) agg.add(f, coarse);
      else k.untracked++;
    }
    const vid = variantId(names);
    const durationMs = Math.max(0, s.endedAt - s.startedAt);
    this.variantTable.add(vid, tools, ok, durationMs);
    const recent: RecentSession = { startedAt: s.startedAt, durationMs, ok, variantId: vid, truncated: f.truncated, tools, gaps };
    if (s.userId !== undefined) recent.userId = s.userId;
    if (s.agentId !== undefined) recent.agentId = s.agentId;
    if (values.intent !== undefined) recent.intent = values.intent;
    this.recent.push(recent);
  }

  /** The directly-follows graph of the sessions the filter selects. */
  flow(q: FlowFilter): FlowStatsView {
    const notes: string[] = [];
    const timed = q.from !== undefined || q.to !== undefined;
    const from = q.from ?? Number.NEGATIVE_INFINITY;
    const to = q.to ?? Number.POSITIVE_INFINITY;
    const dims = this.dimensionsOf(q);
    let agg: FlowAggregate;
    let source: FlowBasis['source'];
    let exact = true;
    let servedFrom = q.from ?? null;
    let servedTo = q.to ?? null;
    if (!timed && dims.length === 0) {
      agg = this.total;
      source = 'all';
    } else if (!timed && dims.length === 1 && this.keyedAnswer(dims[0][0], dims[0][1])) {
      const [d, v] = dims[0];
      agg = this.keyedAnswer(d, v) as FlowAggregate;
      source = d;
    } else if (this.recent.covers(from)) {
      agg = this.scan(q, from, to);
      source = 'recent-sessions';
    } else if (dims.length === 0) {
      const r = this.time.query(from, to);
      agg = r.agg;
      source = 'time-buckets';
      if (!r.exact) {
        exact = false;
        servedFrom = Number.isFinite(r.from) ? r.from : null;
        servedTo = Number.isFinite(r.to) ? r.to : null;
        notes.push('from/to were widened to the time buckets they fall in (hours for the last day or two, then days, months, years): sessions outside the range asked for are counted, see basis.from and basis.to');
      }
    } else {
      agg = this.scan(q, from, to);
      source = 'recent-sessions';
      exact = false;
      notes.push(this.scanNote());
    }
    exact = this.aggregateNotes(agg, notes) && exact;
    const view = agg.view(this.dict.names);
    if (!fitBudget(view, notes)) exact = false;
    return { ...view, basis: { source, exact, from: iso(servedFrom), to: iso(servedTo), notes } };
  }

  /** Distinct tool sequences, most frequent first, keyset-paginated by (count, variantId). */
  variants(q: FlowFilter & { limit: number; cursor?: string }): VariantPageView {
    const after = q.cursor !== undefined ? decodeKeysetCursor(q.cursor) : undefined;
    const notes: string[] = [];
    const dims = this.dimensionsOf(q);
    const timed = q.from !== undefined || q.to !== undefined;
    const from = q.from ?? Number.NEGATIVE_INFINITY;
    const to = q.to ?? Number.POSITIVE_INFINITY;
    let rows: Array<[string, VariantAcc]>;
    let other = 0;
    let exact = true;
    let source: FlowBasis['source'];
    if (!timed && dims.length === 0) {
      rows = [...this.variantTable.variants];
      other = this.variantTable.dropped;
      source = 'all';
      if (other > 0) {
        exact = false;
        notes.push(`${other} sessions belong to rarer variants no longer listed (at most ${2 * MAX_VARIANTS} variants are counted); variants first seen after that are marked exact: false`);
      }
    } else {
      source = 'recent-sessions';
      if (!this.recent.covers(from)) {
        exact = false;
        notes.push(this.scanNote());
      }
      const by = new Map<string, VariantAcc>();
      for (const s of this.recent.sessions()) {
        if (!matches(s, q, from, to)) continue;
        let v = by.get(s.variantId);
        if (!v) by.set(s.variantId, (v = { tools: s.tools.slice(0, MAX_VARIANT_TOOLS), length: s.tools.length, count: 0, ok: 0, durationSum: 0, exact: true }));
        v.count++;
        if (s.ok) v.ok++;
        v.durationSum += s.durationMs;
      }
      rows = [...by];
    }
    if (this.missed > 0) {
      exact = false;
      notes.push(this.missedNote());
    }
    const sessions = rows.reduce((n, [, v]) => n + v.count, 0) + other;
    rows.sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let start = 0;
    if (after) {
      start = rows.findIndex(([id, v]) => v.count < after.value || (v.count === after.value && id > after.id));
      if (start < 0) start = rows.length;
    }
    let page = rows.slice(start, start + q.limit);
    const names = this.dict.names;
    // A page of very long variants is cut short (the cursor goes on from its last item).
    let bytes = 0;
    const fits = page.findIndex(([, v]) => {
      bytes += 200 + v.tools.reduce((n, t) => n + (names[t]?.length ?? 7) * 3 + 3, 0);
      return bytes > ANSWER_BUDGET_BYTES;
    });
    if (fits >= 0) page = page.slice(0, Math.max(1, fits));
    const items: VariantView[] = page.map(([id, v]) => ({
      variantId: id,
      tools: v.tools.map((t) => names[t] ?? '(other)'),
      length: v.length,
      count: v.count,
      share: sessions > 0 ? v.count / sessions : 0,
      successful: v.ok,
      failed: v.count - v.ok,
      successRate: v.count > 0 ? v.ok / v.count : 0,
      meanDurationMs: v.count > 0 ? Math.round((v.durationSum / v.count) * 1000) / 1000 : 0,
      exact: v.exact,
    }));
    const last = page[page.length - 1];
    const nextCursor = last && start + page.length < rows.length ? encodeKeysetCursor(last[1].count, last[0]) : null;
    return { items, nextCursor, sessions, otherSessions: other, basis: { source, exact, from: iso(q.from ?? null), to: iso(q.to ?? null), notes } };
  }

  /** Sessions the process map has counted. */
  get sessions(): number {
    return this.total.sessions;
  }

  toJSON(): FlowStatsJson {
    const keys = {} as FlowStatsJson['keys'];
    for (const d of DIMENSIONS) keys[d] = { untracked: this.keys[d].untracked, items: [...this.keys[d].map].map(([k, a]) => [k, a.toJSON()]) };
    return {
      v: 1,
      tools: this.dict.names,
      missed: this.missed,
      total: this.total.toJSON(),
      time: this.time.toJSON(),
      keys,
      recent: this.recent.toJSON(),
      variants: this.variantTable.toJSON(),
    };
  }

  /**
   * From persisted state; without one (state written before the process map existed), an empty
   * map that says in every answer how many earlier sessions it has not seen.
   */
  static fromJSON(j: FlowStatsJson | undefined, sessionsBefore: number): FlowStats {
    const f = new FlowStats();
    if (!j) {
      f.missed = sessionsBefore;
      return f;
    }
    f.dict = ToolDictionary.fromNames(j.tools);
    f.missed = j.missed;
    f.total = FlowAggregate.fromJSON(j.total, FINE, MAX_EDGES_TOTAL);
    f.time = FlowTimeBuckets.fromJSON(j.time);
    for (const d of DIMENSIONS) {
      f.keys[d].untracked = j.keys[d].untracked;
      for (const [k, a] of j.keys[d].items) f.keys[d].map.set(k, FlowAggregate.fromJSON(a, COARSE, MAX_EDGES_PER_KEY));
    }
    f.recent = RecentSessions.fromJSON(j.recent);
    f.variantTable = VariantTable.fromJSON(j.variants);
    return f;
  }

  private dimensionsOf(q: FlowFilter): Array<[Dimension, string]> {
    const out: Array<[Dimension, string]> = [];
    if (q.userId !== undefined) out.push(['user', q.userId]);
    if (q.agentId !== undefined) out.push(['agent', q.agentId]);
    if (q.intent !== undefined) out.push(['intent', q.intent]);
    return out;
  }

  /**
   * The aggregate answering "sessions of this user / agent / intent": its own when it has one (kept
   * from its first session, so exact), an empty one when the value was never seen (no aggregate
   * was ever refused in this dimension), undefined when only a scan can tell.
   */
  private keyedAnswer(d: Dimension, v: string): FlowAggregate | undefined {
    const k = this.keys[d];
    const agg = k.map.get(v);
    if (agg) return agg;
    return k.untracked === 0 ? new FlowAggregate(COARSE, 0) : undefined;
  }

  private scan(q: FlowFilter, from: number, to: number): FlowAggregate {
    const agg = new FlowAggregate(FINE, Number.MAX_SAFE_INTEGER);
    for (const s of this.recent.sessions()) {
      if (!matches(s, q, from, to)) continue;
      const fine = s.gaps.map((g) => FINE.bucketOf(g));
      agg.add({ tools: s.tools, gaps: s.gaps, fine, coarse: [], truncated: s.truncated }, fine);
    }
    return agg;
  }

  private scanNote(): string {
    const since = this.recent.evictedMaxStart;
    return `served from the ${this.recent.count} most recently closed sessions only (${this.recent.evicted} older ones are no longer held${Number.isFinite(since) ? `; complete for sessions that started after ${new Date(since).toISOString()}` : ''})`;
  }

  private missedNote(): string {
    return `${this.missed} sessions were counted before the process map was kept and are not in it (a full analyzer run rebuilds it)`;
  }

  /** Adds the notes that make an aggregate's answer inexact; true when there are none. */
  private aggregateNotes(agg: FlowAggregate, notes: string[]): boolean {
    const before = notes.length;
    if (this.missed > 0) notes.push(this.missedNote());
    if (agg.droppedTransitions > 0) notes.push(`${agg.droppedTransitions} transitions of rarer edges were left out (edge bound)`);
    if (agg.truncatedSessions > 0) notes.push(`${agg.truncatedSessions} sessions had more calls than ANALYZER_MAX_STEPS_PER_SESSION: only their first calls are counted`);
    if (agg.activities.has(0)) notes.push(`tools past the first ${MAX_TOOLS} distinct names are counted as "(other)"`);
    return notes.length === before;
  }
}

/**
 * Trims the view to the answer budget, most frequent entries first: the tool lists get at most a
 * quarter (activities) and an eighth (starts, ends) of it, the edges the rest. Adds a note per list
 * cut; true when nothing was cut.
 */
function fitBudget(view: FlowGraphView, notes: string[]): boolean {
  const toolBytes = (a: { tool: string }) => Buffer.byteLength(a.tool) + 30;
  const edgeBytes = (e: { from: string; to: string }) => Buffer.byteLength(e.from) + Buffer.byteLength(e.to) + 100;
  let left = ANSWER_BUDGET_BYTES;
  let whole = true;
  const cut = <T>(name: 'activities' | 'starts' | 'ends' | 'edges', share: number, size: (x: T) => number) => {
    const list = view[name] as unknown as T[];
    const budget = name === 'edges' ? left : ANSWER_BUDGET_BYTES * share;
    let used = 0;
    let kept = list.length;
    for (let i = 0; i < list.length; i++) {
      used += size(list[i]);
      if (used > budget) {
        kept = i;
        used -= size(list[i]);
        break;
      }
    }
    left -= used;
    if (kept < list.length) {
      whole = false;
      notes.push(`the ${list.length - kept} least frequent of ${list.length} ${name} were left out of this answer to keep it under ${ANSWER_BUDGET_BYTES / 1024} KB (filter to see them)`);
      (view[name] as unknown as T[]) = list.slice(0, kept);
    }
  };
  cut('activities', 1 / 4, toolBytes);
  cut('starts', 1 / 8, toolBytes);
  cut('ends', 1 / 8, toolBytes);
  cut('edges', 1, edgeBytes);
  return whole;
}

function keyed(): Keyed {
  return { map: new Map(), untracked: 0 };
}

function matches(s: RecentSession, q: FlowFilter, from: number, to: number): boolean {
  return (
    s.startedAt >= from &&
    s.startedAt < to &&
    (q.userId === undefined || s.userId === q.userId) &&
    (q.agentId === undefined || s.agentId === q.agentId) &&
    (q.intent === undefined || s.intent === q.intent)
  );
}

function iso(ms: number | null): string | null {
  return ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}
