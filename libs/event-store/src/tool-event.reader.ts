import type { Collection, Db, Filter, FindCursor } from 'mongodb';
import { Collections, type Page } from '@toolpath/contracts';
import { cursorTime, decodeCursor, encodeCursor } from './cursor';
import { eventTimeline, type EventTimeline, type TimelineBucket } from './event-timeline';
import { searchSessions, type SessionSearch } from './session-search';
import { SUMMARY_PROJECTION, summarizeSessions, type SessionSummary, type SummaryRow } from './session-summary';
import type { RejectedEvent, StoredToolEvent } from './stored-event';

export type { SessionSummary } from './session-summary';

export interface EventQuery {
  sessionId?: string;
  tool?: string;
  kind?: 'tool_call' | 'session_end';
  success?: boolean;
  userId?: string;
  agentId?: string;
  from?: Date;
  to?: Date;
}

export interface Tally {
  total: number;
  successful: number;
  failed: number;
  successRate: number | null;
  avgDurationMs: number | null;
}

export interface EventStats {
  overall: Tally;
  last24h: Tally;
  byTool: Array<Tally & { tool: string }>;
  byIntent: Array<Tally & { intent: string }>;
}

/** One agent seen in a tenant's tool calls, with its counts. */
export interface AgentActivity {
  agentId: string;
  events: number;
  failed: number;
  /** Share of its calls that succeeded (3 decimals); null without calls. */
  successRate: number | null;
  /** The agent's most used tools (up to 10), with counts. */
  tools: Array<{ tool: string; count: number }>;
  /** The start time of the agent's newest event of any kind (it may be later than the window). */
  lastSeenAt: Date | null;
}

/** Rows scanned at most to find the recent sessions, so one call stays bounded on any history. */
const RECENT_SCAN_LIMIT = 50_000;
/** Events returned at most for one session. */
export const SESSION_EVENT_LIMIT = 10_000;

/**
 * Reads of `tool_events` and `rejected_events`. Every method takes the tenant first: there is no
 * way to ask this class for rows without naming whose rows they are.
 */
export class ToolEventReader {
  private readonly events: Collection<StoredToolEvent>;
  private readonly rejected: Collection<RejectedEvent>;

  constructor(db: Db) {
    this.events = db.collection<StoredToolEvent>(Collections.toolEvents);
    this.rejected = db.collection<RejectedEvent>(Collections.rejectedEvents);
  }

  /** Newest first, keyset-paginated on (startedAt, _id). */
  async list(tenantId: string, q: EventQuery, limit: number, cursor?: string): Promise<Page<StoredToolEvent>> {
    const filter: Filter<StoredToolEvent> = { tenantId };
    if (q.sessionId !== undefined) filter.sessionId = q.sessionId;
    if (q.tool !== undefined) filter.tool = q.tool;
    if (q.kind !== undefined) filter.kind = q.kind;
    if (q.success !== undefined) filter.success = q.success;
    if (q.userId !== undefined) filter.userId = q.userId;
    if (q.agentId !== undefined) filter.agentId = q.agentId;
    if (q.from || q.to) filter.startedAt = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lt: q.to } : {}) };
    if (cursor) {
      const pos = decodeCursor(cursor);
      const at = cursorTime(pos.value);
      filter.$or = [{ startedAt: { $lt: at } }, { startedAt: at, _id: { $lt: pos.id } }];
    }
    const rows = await this.events.find(filter).sort({ startedAt: -1, _id: -1 }).limit(limit + 1).toArray();
    return page(rows, limit, (r) => encodeCursor(r.startedAt.getTime(), r._id));
  }

  /** A session's events in order: seq, then startedAt (producers may omit seq or tie on it). */
  async session(tenantId: string, sessionId: string): Promise<StoredToolEvent[]> {
    const rows = await this.events.find({ tenantId, sessionId }).limit(SESSION_EVENT_LIMIT).toArray();
    return rows.sort(compareInSession);
  }

  async recentSessions(tenantId: string, limit: number): Promise<SessionSummary[]> {
    const order: string[] = [];
    const seen = new Set<string>();
    const scan = this.events
      .find({ tenantId }, { projection: { sessionId: 1, startedAt: 1 } })
      .sort({ startedAt: -1 })
      .limit(RECENT_SCAN_LIMIT);
    for await (const row of scan) {
      if (!seen.has(row.sessionId)) {
        seen.add(row.sessionId);
        order.push(row.sessionId);
        if (order.length >= limit) break;
      }
    }
    await scan.close();
    if (order.length === 0) return [];
    const rows = await this.events.find({ tenantId, sessionId: { $in: order } }, { projection: SUMMARY_PROJECTION }).toArray();
    const bySession = summarizeSessions(rows as SummaryRow[]);
    return order.map((id) => bySession.get(id)).filter((s): s is SessionSummary => s !== undefined);
  }

  /** Sessions matching `q`, most recently active first, keyset-paged (see `searchSessions`). */
  searchSessions(tenantId: string, q: SessionSearch, limit: number, cursor?: string): Promise<Page<SessionSummary>> {
    return searchSessions(this.events, tenantId, q, limit, cursor);
  }

  /** Calls, failures and sessions per bucket of an aligned, bounded range (see `eventTimeline`). */
  timeline(tenantId: string, bucket: TimelineBucket, range: { from: number; to: number }, opts: { maxTimeMS?: number } = {}): Promise<EventTimeline> {
    return eventTimeline(this.events, tenantId, bucket, range, opts);
  }

  /**
   * Totals over tool calls (overall, last 24 h, per tool) and over ended sessions (per intent).
   * Grouping uses only `$match`/`$group`/`$sum`, which every Mongo-compatible server runs.
   */
  async stats(tenantId: string, now = new Date()): Promise<EventStats> {
    const since = new Date(now.getTime() - 24 * 3600 * 1000);
    const [all, recent] = await Promise.all([this.groupCounts({ tenantId }), this.groupCounts({ tenantId, startedAt: { $gte: since } })]);
    const byTool = new Map<string, Accumulator>();
    const byIntent = new Map<string, Accumulator>();
    const overall = new Accumulator();
    for (const g of all) {
      if (g._id.kind === 'session_end') {
        if (g._id.intent) acc(byIntent, g._id.intent).add(g._id.success, g.n, g.duration);
        continue;
      }
      overall.add(g._id.success, g.n, g.duration);
      if (g._id.tool) acc(byTool, g._id.tool).add(g._id.success, g.n, g.duration);
    }
    const last24h = new Accumulator();
    for (const g of recent) if (g._id.kind !== 'session_end') last24h.add(g._id.success, g.n, g.duration);
    return {
      overall: overall.tally(),
      last24h: last24h.tally(),
      byTool: [...byTool].map(([tool, a]) => ({ tool, ...a.tally() })).sort((a, b) => b.total - a.total),
      byIntent: [...byIntent].map(([intent, a]) => ({ intent, ...a.tally() })).sort((a, b) => b.total - a.total),
    };
  }

  /**
   * Agents seen in the tenant's tool calls since `since`, most active first. Two `$group`s with
   * one accumulator each (FerretDB v1 computes only the first accumulator of a group correctly).
   */
  async agents(tenantId: string, since: Date, opts: { maxTimeMS?: number } = {}): Promise<AgentActivity[]> {
    const match = { tenantId, kind: 'tool_call', agentId: { $exists: true, $ne: null }, startedAt: { $gte: since } };
    const options = opts.maxTimeMS !== undefined ? { maxTimeMS: opts.maxTimeMS } : {};
    const [byTool, failures] = await Promise.all([
      this.events.aggregate<{ _id: { agentId: string; tool: string }; n: number }>([{ $match: match }, { $group: { _id: { agentId: '$agentId', tool: '$tool' }, n: { $sum: 1 } } }], options).toArray(),
      this.events.aggregate<{ _id: string; n: number }>([{ $match: { ...match, success: false } }, { $group: { _id: '$agentId', n: { $sum: 1 } } }], options).toArray(),
    ]);
    const failed = new Map(failures.map((f) => [f._id, f.n]));
    const agents = new Map<string, AgentActivity>();
    for (const row of byTool) {
      const id = row._id.agentId;
      if (typeof id !== 'string') continue;
      let a = agents.get(id);
      if (!a) {
        a = { agentId: id, events: 0, failed: failed.get(id) ?? 0, successRate: null, tools: [], lastSeenAt: null };
        agents.set(id, a);
      }
      a.events += row.n;
      a.tools.push({ tool: row._id.tool, count: row.n });
    }
    for (const a of agents.values()) {
      a.successRate = a.events > 0 ? Math.round(((a.events - a.failed) / a.events) * 1000) / 1000 : null;
      a.tools = a.tools.sort((x, y) => y.count - x.count || x.tool.localeCompare(y.tool)).slice(0, 10);
    }
    await this.lastSeen(tenantId, [...agents.values()], options);
    return [...agents.values()].sort((x, y) => y.events - x.events || x.agentId.localeCompare(y.agentId));
  }

  /**
   * Each agent's newest event: one find per agent for its newest row, a few at a time (FerretDB
   * v1's `$group` has no `$max`). The agents listed were active lately, so on MongoDB the walk
   * down the tenant_started index meets their newest row early.
   */
  private async lastSeen(tenantId: string, agents: AgentActivity[], options: { maxTimeMS?: number }): Promise<void> {
    const AT_ONCE = 8;
    for (let i = 0; i < agents.length; i += AT_ONCE) {
      await Promise.all(
        agents.slice(i, i + AT_ONCE).map(async (a) => {
          const [row] = await this.events.find({ tenantId, agentId: a.agentId }, { projection: { _id: 0, startedAt: 1 }, ...options }).sort({ startedAt: -1 }).limit(1).toArray();
          a.lastSeenAt = row?.startedAt ?? null;
        }),
      );
    }
  }

  /**
   * Every row of a tenant in the stream's arrival order (rows stored without a stream sequence
   * first, by arrival), read `batchSize` at a time: what a rebuild replays. Close it when stopping early.
   */
  inArrivalOrder(tenantId: string, batchSize: number): FindCursor<StoredToolEvent> {
    return this.events.find({ tenantId }).sort({ streamSeq: 1, receivedAt: 1 }).batchSize(batchSize);
  }

  async listRejected(tenantId: string, limit: number, cursor?: string): Promise<Page<RejectedEvent>> {
    const filter: Filter<RejectedEvent> = { tenantId };
    if (cursor) {
      const pos = decodeCursor(cursor);
      const at = cursorTime(pos.value);
      filter.$or = [{ receivedAt: { $lt: at } }, { receivedAt: at, _id: { $lt: pos.id } }];
    }
    const rows = await this.rejected.find(filter).sort({ receivedAt: -1, _id: -1 }).limit(limit + 1).toArray();
    return page(rows, limit, (r) => encodeCursor(r.receivedAt.getTime(), r._id));
  }

  /**
   * Count and duration sum per (kind, tool, intent, success). FerretDB v1 computes only the first
   * accumulator of a `$group` correctly (later ones come back 0), so each sum is its own
   * aggregation, run concurrently and joined on the group key; MongoDB gives the same answer.
   */
  private async groupCounts(match: Filter<StoredToolEvent>) {
    type Key = { kind: string; tool?: string; intent?: string; success: boolean };
    const group = (sum: 1 | '$durationMs') =>
      this.events
        .aggregate<{ _id: Key; v: number }>([
          { $match: match },
          { $group: { _id: { kind: '$kind', tool: '$tool', intent: '$intent', success: '$success' }, v: { $sum: sum } } },
        ])
        .toArray();
    const [counts, durations] = await Promise.all([group(1), group('$durationMs')]);
    const keyOf = (k: Key) => JSON.stringify([k.kind, k.tool ?? null, k.intent ?? null, k.success]);
    const duration = new Map(durations.map((d) => [keyOf(d._id), d.v]));
    return counts.map((c) => ({ _id: c._id, n: c.v, duration: duration.get(keyOf(c._id)) ?? 0 }));
  }
}

function compareInSession(a: StoredToolEvent, b: StoredToolEvent): number {
  // session_end closes the session whatever its seq; events without seq order by time.
  if (a.kind !== b.kind) return a.kind === 'session_end' ? 1 : -1;
  if (a.seq !== undefined && b.seq !== undefined && a.seq !== b.seq) return a.seq - b.seq;
  const dt = a.startedAt.getTime() - b.startedAt.getTime();
  if (dt !== 0) return dt;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

function page<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextCursor: more ? cursorOf(items[items.length - 1]) : null };
}

class Accumulator {
  private ok = 0;
  private bad = 0;
  private duration = 0;

  add(success: boolean, n: number, duration: number): void {
    if (success) this.ok += n;
    else this.bad += n;
    this.duration += duration;
  }

  tally(): Tally {
    const total = this.ok + this.bad;
    return {
      total,
      successful: this.ok,
      failed: this.bad,
      successRate: total ? this.ok / total : null,
      avgDurationMs: total ? this.duration / total : null,
    };
  }
}

function acc(map: Map<string, Accumulator>, key: string): Accumulator {
  let a = map.get(key);
  if (!a) map.set(key, (a = new Accumulator()));
  return a;
}
