import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { Collections, type AnalyzerRunMode, type AnalyzerRunStatus, type AnalyzerRunView } from '@toolpath/contracts';

export interface TenantShare {
  events: number;
  sessionsClosed: number;
  patterns: number;
  patternsChanged: number;
  /** Messages (or rows) of this tenant the run read, invalid ones and already counted ones included. */
  read?: number;
  invalid?: number;
  alreadyCounted?: number;
  /** Calls of the sessions closed in this run beyond ANALYZER_MAX_STEPS_PER_SESSION, not mined. */
  droppedSteps?: number;
  /** Events of this tenant dead-lettered in this run (counting them kept failing). */
  deadLettered?: number;
}

/** A row of `analyzer_runs` (`_id` = run id). Incremental runs cover every tenant; a full run one. */
export interface RunRecord {
  _id: string;
  mode: AnalyzerRunMode;
  trigger: 'schedule' | 'request';
  status: AnalyzerRunStatus;
  /** The tenant a full rebuild is for (only that tenant sees the run). */
  tenantId: string | null;
  startedAt: Date;
  endedAt: Date | null;
  durationMs: number | null;
  eventsRead: number;
  invalidEvents: number;
  alreadyCounted: number;
  tenants: Record<string, TenantShare>;
  warnings: string[];
  error?: string;
  /**
   * Where the run's time went, in ms (prepare, read, decode, count, persist, ack, quiet, after):
   * kept in the row and the closing log line, for benches and slow-run diagnosis.
   */
  phases?: Record<string, number>;
}

const LATEST_ID = '#latest';

export function newRunId(): string {
  return `run_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
}

export function emptyShare(): TenantShare {
  return { events: 0, sessionsClosed: 0, patterns: 0, patternsChanged: 0, read: 0, invalid: 0, alreadyCounted: 0 };
}

/**
 * What one tenant may see of a run: its own share only. The run's totals (every tenant's
 * messages) stay in the record, the log line and the metrics, for operators: another tenant's
 * volume is not this tenant's business.
 */
export function runView(r: RunRecord, tenantId: string): AnalyzerRunView {
  const share = r.tenants[tenantId] ?? emptyShare();
  return {
    id: r._id,
    mode: r.mode,
    trigger: r.trigger,
    status: r.status,
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt ? r.endedAt.toISOString() : null,
    durationMs: r.durationMs,
    eventsRead: share.read ?? 0,
    invalidEvents: share.invalid ?? 0,
    alreadyCounted: share.alreadyCounted ?? 0,
    tenant: { events: share.events, sessionsClosed: share.sessionsClosed, patterns: share.patterns, patternsChanged: share.patternsChanged },
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

export function visibleTo(r: RunRecord, tenantId: string): boolean {
  return r.mode === 'incremental' || r.tenantId === tenantId;
}

/** `analyzer_runs`: every read is by `_id`; the latest incremental run is pointed to by `#latest`. */
export class RunRepository {
  private readonly runs: Collection<RunRecord>;
  private readonly pointers: Collection<{ _id: string; runId: string; startedAt: Date }>;

  constructor(db: Db) {
    this.runs = db.collection<RunRecord>(Collections.analyzerRuns);
    this.pointers = db.collection<{ _id: string; runId: string; startedAt: Date }>(Collections.analyzerRuns);
  }

  async insert(r: RunRecord): Promise<void> {
    await this.runs.insertOne(r);
  }

  async save(r: RunRecord): Promise<void> {
    const { _id, ...rest } = r;
    await this.runs.updateOne({ _id }, { $set: rest });
    if (r.mode === 'incremental') {
      await this.pointers.updateOne({ _id: LATEST_ID }, { $set: { runId: r._id, startedAt: r.startedAt } }, { upsert: true });
    }
  }

  async get(id: string): Promise<RunRecord | undefined> {
    if (id === LATEST_ID) return undefined;
    return (await this.runs.findOne({ _id: id })) ?? undefined;
  }

  async latestIncrementalId(): Promise<string | undefined> {
    return (await this.pointers.findOne({ _id: LATEST_ID }))?.runId;
  }

  async prune(before: Date): Promise<number> {
    const res = await this.runs.deleteMany({ _id: { $ne: LATEST_ID }, startedAt: { $lt: before } });
    return res.deletedCount;
  }
}
