import type { JsMsg } from 'nats';
import type { RejectedEvent, StoredToolEvent, ToolEventWriter } from '@toolpath/event-store';
import type { MinedPattern } from '@toolpath/mining';
import type { EventStreamReader, StreamPosition } from '../src/intake/event-stream.reader';
import type { PatternRepository } from '../src/patterns/pattern.repository';
import type { HeldLock, RunLock } from '../src/runs/run-lock';
import type { RunRecord, RunRepository } from '../src/runs/run.repository';
import { TenantLearning, type LearningOptions } from '../src/state/tenant-learning';
import { StateConflictError, type StreamCursor, type TenantStateRepository } from '../src/state/tenant-state.repository';
import type { CatalogReader, CatalogWorkflow } from '../src/suggestions/catalog.reader';

/**
 * In-memory doubles of what the analyzer reads and writes outside itself, for its unit tier:
 * each keeps the contract its real counterpart states (versions that must match, a cursor that
 * only moves forward from the version read, a lock one holder at a time) and records what it
 * was asked, so a service built by Nest with these in place of the real ones can be checked
 * without a database, a stream or Redis. The real ones are covered by the tests against
 * infrastructure (`*.e2e-spec.ts`, `tenant-state.repository.spec.ts`).
 */

/** What a class offers its callers (a class with private fields cannot be implemented as such). */
type PublicOf<T> = Pick<T, keyof T>;

interface StoredTenant {
  version: number;
  promotedRev: number;
  promoted: Map<string, string>;
  /** The object last persisted: a load hands it back as the store's copy. */
  state: TenantLearning;
  openSessions: number;
  nextCloseAt: number | undefined;
  lastArrivalAt: number;
}

export class InMemoryTenantStateRepository implements Omit<TenantStateRepository, 'blobs'> {
  readonly tenants = new Map<string, StoredTenant>();
  cursor: StreamCursor | undefined;
  loads = 0;
  headReads = 0;
  /** Makes persisting a tenant fail (with the database answering) while it returns an error. */
  failPersist: (tenantId: string) => Error | undefined = () => undefined;

  async promotedOf(tenantId: string): Promise<{ promoted: Map<string, string>; promotedRev: number }> {
    const t = this.tenants.get(tenantId);
    return { promoted: new Map(t?.promoted), promotedRev: t?.promotedRev ?? 0 };
  }

  async headMeta(tenantId: string): Promise<{ version: number; promotedRev: number } | null> {
    this.headReads++;
    const t = this.tenants.get(tenantId);
    return t ? { version: t.version, promotedRev: t.promotedRev } : null;
  }

  async load(tenantId: string, opts: LearningOptions): Promise<TenantLearning> {
    this.loads++;
    const t = this.tenants.get(tenantId);
    if (!t) return TenantLearning.fresh(tenantId, opts);
    t.state.meta = { ...t.state.meta, version: t.version, promotedRev: t.promotedRev };
    t.state.promoted = new Map(t.promoted);
    return t.state;
  }

  async persist(state: TenantLearning, opts: { fullRunId?: string } = {}): Promise<{ compacted: boolean }> {
    const t = state.tenantId;
    const stored = this.tenants.get(t);
    const failure = this.failPersist(t);
    if (failure) {
      state.assembler.openSaveFailed();
      throw failure;
    }
    if ((stored?.version ?? 0) !== state.meta.version) throw new StateConflictError(`tenant ${t}'s state`);
    state.assembler.takeOpenChanges();
    const version = state.meta.version + 1;
    state.meta = { ...state.meta, version };
    state.unpersisted = [];
    if (opts.fullRunId) state.lastFullRunId = opts.fullRunId;
    this.tenants.set(t, {
      version,
      promotedRev: stored?.promotedRev ?? 0,
      promoted: stored?.promoted ?? new Map(state.promoted),
      state,
      openSessions: state.assembler.openCount,
      nextCloseAt: state.assembler.nextCloseAt(),
      lastArrivalAt: state.lastArrivalAt,
    });
    return { compacted: false };
  }

  async collectGarbage(): Promise<number> {
    return 0;
  }

  async compactIfDue(): Promise<boolean> {
    return false;
  }

  async tenantsDueAt(arrivalClock: number): Promise<string[]> {
    return [...this.tenants].filter(([, t]) => t.openSessions > 0 && t.nextCloseAt !== undefined && t.nextCloseAt <= arrivalClock).map(([id]) => id);
  }

  async quietTenants(before: number): Promise<string[]> {
    return [...this.tenants].filter(([, t]) => t.openSessions > 0 && t.lastArrivalAt < before).map(([id]) => id);
  }

  async resetWatermarks(): Promise<void> {
    for (const t of this.tenants.values()) {
      t.state.watermark = 0;
      t.version++;
    }
  }

  async markPromoted(tenantId: string, patternId: string, workflowId: string): Promise<boolean> {
    const t = this.tenants.get(tenantId);
    if (!t) return false;
    t.promoted.set(patternId, workflowId);
    t.promotedRev++;
    return true;
  }

  async readCursor(stream: string): Promise<StreamCursor> {
    return this.cursor ?? { stream, streamCreated: null, streamWatermark: 0, version: 0, lastRunId: null };
  }

  async writeCursor(prev: StreamCursor, streamWatermark: number, lastRunId: string | null, streamCreated = prev.streamCreated): Promise<StreamCursor> {
    if ((this.cursor?.version ?? 0) !== prev.version) throw new StateConflictError('the stream cursor');
    this.cursor = { stream: prev.stream, streamCreated, streamWatermark, version: prev.version + 1, lastRunId };
    return this.cursor;
  }

  /** Another analyzer persisting the tenant: the stored version moves past every cached copy. */
  writtenElsewhere(tenantId: string): void {
    const t = this.tenants.get(tenantId);
    if (t) t.version++;
  }
}

export class InMemoryRunRepository implements PublicOf<RunRepository> {
  readonly rows = new Map<string, RunRecord>();
  /** The statuses each run was written with, in order (inserted, then saved). */
  readonly writes: Array<{ id: string; status: RunRecord['status'] }> = [];
  private latest: string | undefined;

  async insert(r: RunRecord): Promise<void> {
    if (this.rows.has(r._id)) throw new Error(`duplicate run ${r._id}`);
    this.rows.set(r._id, structuredClone(r));
    this.writes.push({ id: r._id, status: r.status });
  }

  async save(r: RunRecord): Promise<void> {
    this.rows.set(r._id, structuredClone(r));
    this.writes.push({ id: r._id, status: r.status });
    if (r.mode === 'incremental') this.latest = r._id;
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const r = this.rows.get(id);
    return r && structuredClone(r);
  }

  async latestIncrementalId(): Promise<string | undefined> {
    return this.latest;
  }

  async prune(before: Date): Promise<number> {
    let n = 0;
    for (const [id, r] of this.rows) {
      if (r.startedAt < before && this.rows.delete(id)) n++;
    }
    return n;
  }
}

export class InMemoryPatternRepository implements PublicOf<PatternRepository> {
  /** Pattern ids listed per tenant, as the last sync left them. */
  readonly listed = new Map<string, string[]>();
  readonly promoted = new Map<string, string>();

  async sync(tenantId: string, listed: MinedPattern[], _views: unknown, _promoted: Map<string, string>, written: Map<string, string> | undefined) {
    const before = new Set(written?.keys() ?? this.listed.get(tenantId) ?? []);
    const next = new Map(listed.map((p) => [p.id, `${p.support}|${p.confidence}`]));
    const changed = listed.filter((p) => written?.get(p.id) !== next.get(p.id)).length;
    const removed = [...before].filter((id) => !next.has(id)).length;
    this.listed.set(
      tenantId,
      listed.map((p) => p.id),
    );
    return { written: next, changed, removed, failed: 0 };
  }

  async markPromoted(tenantId: string, patternId: string, workflowId: string): Promise<void> {
    this.promoted.set(`${tenantId}:${patternId}`, workflowId);
  }
}

export class InMemoryDeadLetters implements Pick<ToolEventWriter, 'insertRejected'> {
  readonly rows = new Map<string, RejectedEvent>();

  async insertRejected(rows: RejectedEvent[]): Promise<number> {
    let n = 0;
    for (const r of rows) {
      if (this.rows.has(r._id)) continue;
      this.rows.set(r._id, r);
      n++;
    }
    return n;
  }
}

export class InMemoryCatalog implements PublicOf<CatalogReader> {
  readonly workflows = new Map<string, CatalogWorkflow[]>();

  async list(tenantId: string): Promise<CatalogWorkflow[]> {
    return this.workflows.get(tenantId) ?? [];
  }
}

export class InMemoryRunLock implements PublicOf<RunLock> {
  private token: string | undefined;

  async tryAcquire(runId: string): Promise<HeldLock | undefined> {
    if (this.token) return undefined;
    const token = `${runId}.0`;
    this.token = token;
    return {
      token,
      lost: false,
      release: async () => {
        if (this.token === token) this.token = undefined;
      },
    };
  }

  async holder(): Promise<string | undefined> {
    return this.token?.slice(0, this.token.lastIndexOf('.'));
  }
}

/** A message as the stream delivers it: bytes, subject, sequence and the server's arrival stamp. */
export function streamMessage(seq: number, subject: string, body: unknown, arrivedAt: number): JsMsg {
  return { seq, subject, data: Buffer.from(JSON.stringify(body)), info: { timestampNanos: arrivedAt * 1_000_000 } } as unknown as JsMsg;
}

/**
 * The analyzer's durable consumer over a list of messages: `prepare` positions it after the
 * watermark it is given, `take` hands out what follows, `ackThrough` moves the acknowledged floor.
 */
export class InMemoryEventStream implements Pick<EventStreamReader, 'prepare' | 'take' | 'ackThrough' | 'reset'> {
  readonly messages: JsMsg[] = [];
  ackedThrough = 0;
  /** How far the recorder has acknowledged (stored) the stream: what a full rebuild waits for. */
  recorderAckFloor = 0;
  created = '2026-01-01T00:00:00Z';
  /** The server's time a run's reading starts at (sessions over by then may close). */
  serverTime: number | undefined = undefined;
  private position = 0;

  async prepare(streamWatermark: number): Promise<StreamPosition> {
    this.position = Math.max(streamWatermark, this.ackedThrough);
    const first = this.messages[0]?.seq ?? 1;
    const last = this.messages[this.messages.length - 1]?.seq ?? 0;
    return {
      pending: this.messages.filter((m) => m.seq > this.position).length,
      firstSeq: first,
      lastSeq: last,
      created: this.created,
      repositioned: false,
      ...(this.serverTime !== undefined ? { serverTime: this.serverTime } : {}),
    };
  }

  async take(max: number): Promise<JsMsg[]> {
    const out = this.messages.filter((m) => m.seq > this.position).slice(0, max);
    if (out.length > 0) this.position = out[out.length - 1].seq;
    return out;
  }

  async ackThrough(last: JsMsg): Promise<void> {
    this.ackedThrough = Math.max(this.ackedThrough, last.seq);
  }

  async reset(): Promise<void> {
    this.position = 0;
    this.ackedThrough = 0;
  }

  /** The part of the JetStream manager a rebuild asks: the recorder's consumer position. */
  async manager() {
    return { consumers: { info: async () => ({ ack_floor: { stream_seq: this.recorderAckFloor } }) } };
  }
}

/** `tool_events` as the recorder stored them, read back in the stream's order. */
export class InMemoryStoredEvents {
  readonly rows: StoredToolEvent[] = [];

  async *inArrivalOrder(tenantId: string): AsyncIterable<StoredToolEvent> {
    const ofTenant = this.rows.filter((r) => r.tenantId === tenantId);
    ofTenant.sort((a, b) => (a.streamSeq ?? 0) - (b.streamSeq ?? 0) || a.receivedAt.getTime() - b.receivedAt.getTime());
    yield* ofTenant;
  }
}
