import type { Collection, Db, Filter, IndexDescription } from 'mongodb';
import { EXECUTIONS_COLLECTION, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type KeysetPosition } from '@toolpath/contracts';
import type { ExecutionDocument } from './execution-row';

/**
 * The list of every run of a tenant (`GET /executions`), built so that a page stays cheap on
 * FerretDB v1 as well as on MongoDB.
 *
 * FerretDB v1 pushes down only equality on top-level fields: a range, a sort or a limit over a
 * tenant's runs makes it read and decode every run of the tenant (41 s for a page at 100,000 runs
 * here). So each finished run's row carries, per way of filtering the list (all runs, one workflow,
 * one status, both), a sequence number allocated when its final row is written and the bucket of
 * RUN_LIST_BUCKET numbers it falls in. A page reads whole buckets by equality
 * (`{ tenantId, [workflowId], [status], <bucket>: b }`: at most RUN_LIST_BUCKET rows decoded, one
 * table scan in PostgreSQL), newest bucket first; on MongoDB the same query is an index range.
 * The order is the order the rows were recorded: runs most recently finished first. Runs recorded
 * before the lists existed get numbers below 1, newest first downward (the executor's
 * run-list-backfill.ts), so they follow every run recorded since.
 */

/** How many sequence numbers share a bucket: the most rows one bucket query decodes. */
export const RUN_LIST_BUCKET = 100;

/** Collection of the per-list sequence counters (written by the executor, like `executions`). */
export const EXECUTION_LIST_COUNTERS_COLLECTION = 'execution_list_counters';

export type RunListKind = 'all' | 'workflow' | 'status' | 'workflowStatus';

/** The row fields of each list: sequence number, bucket. */
export const RUN_LIST_FIELDS: Record<RunListKind, { seq: keyof RunListFields; bucket: keyof RunListFields }> = {
  all: { seq: 'listSeq', bucket: 'listBucket' },
  workflow: { seq: 'wfListSeq', bucket: 'wfListBucket' },
  status: { seq: 'stListSeq', bucket: 'stListBucket' },
  workflowStatus: { seq: 'wfStListSeq', bucket: 'wfStListBucket' },
};

/** What a finished run's row carries for the lists (absent on rows of runs still going). */
export interface RunListFields {
  listSeq?: number;
  listBucket?: number;
  wfListSeq?: number;
  wfListBucket?: number;
  stListSeq?: number;
  stListBucket?: number;
  wfStListSeq?: number;
  wfStListBucket?: number;
  /** When the final row was written (epoch ms): where a time filter stops walking. */
  recordedMs?: number;
}

/** The list fields, which no client sees. */
export const RUN_LIST_FIELD_NAMES: ReadonlyArray<keyof RunListFields> = [
  'listSeq',
  'listBucket',
  'wfListSeq',
  'wfListBucket',
  'stListSeq',
  'stListBucket',
  'wfStListSeq',
  'wfStListBucket',
  'recordedMs',
];

/** MongoDB's indexes for the four list queries (FerretDB v1 would not use them; see runListIndexesFor). */
export const RUN_LIST_INDEXES: IndexDescription[] = [
  { key: { tenantId: 1, listBucket: -1, listSeq: -1 }, name: 'runs_all' },
  { key: { tenantId: 1, workflowId: 1, wfListBucket: -1, wfListSeq: -1 }, name: 'runs_workflow' },
  { key: { tenantId: 1, status: 1, stListBucket: -1, stListSeq: -1 }, name: 'runs_status' },
  { key: { tenantId: 1, workflowId: 1, status: 1, wfStListBucket: -1, wfStListSeq: -1 }, name: 'runs_workflow_status' },
];

/** The indexes to create on this server: MongoDB's, none on FerretDB (they would only cost every insert). */
export async function runListIndexesFor(db: Db): Promise<IndexDescription[]> {
  const info = (await db.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: unknown };
  return info.ferretdbVersion !== undefined ? [] : RUN_LIST_INDEXES;
}

export interface RunListFilter {
  tenantId: string;
  workflowId?: string;
  status?: ExecutionStatus;
}

export function runListKind(f: { workflowId?: string; status?: string }): RunListKind {
  if (f.workflowId !== undefined) return f.status !== undefined ? 'workflowStatus' : 'workflow';
  return f.status !== undefined ? 'status' : 'all';
}

/** The counter `_id` of a list (JSON, so no separator can collide with an id). */
export function runListCounterId(kind: RunListKind, f: RunListFilter): string {
  return JSON.stringify([kind, f.tenantId, f.workflowId ?? null, f.status ?? null]);
}

/** Allocates `n` consecutive numbers of a counter; returns the last one. */
export type SequenceAllocator = (counterId: string, n: number) => Promise<number>;

/**
 * Gives final rows their list positions, in place: per list they belong to, consecutive numbers in
 * id (creation) order. Rows of runs not yet ended get none (the live list in Redis lists them).
 */
export async function assignRunListPositions(docs: ExecutionDocument[], allocate: SequenceAllocator, nowMs = Date.now()): Promise<void> {
  const finished = docs.filter((d) => TERMINAL_EXECUTION_STATUSES.has(d.status)).sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const groups = new Map<string, { kind: RunListKind; rows: ExecutionDocument[] }>();
  const add = (kind: RunListKind, f: RunListFilter, row: ExecutionDocument) => {
    const id = runListCounterId(kind, f);
    const g = groups.get(id) ?? { kind, rows: [] };
    g.rows.push(row);
    groups.set(id, g);
  };
  for (const row of finished) {
    const f = { tenantId: row.tenantId, status: row.status };
    add('all', { tenantId: row.tenantId }, row);
    add('status', f, row);
    if (row.workflowId !== undefined) {
      add('workflow', { tenantId: row.tenantId, workflowId: row.workflowId }, row);
      add('workflowStatus', { ...f, workflowId: row.workflowId }, row);
    }
  }
  await Promise.all(
    [...groups].map(async ([counterId, { kind, rows }]) => {
      const last = await allocate(counterId, rows.length);
      const { seq, bucket } = RUN_LIST_FIELDS[kind];
      rows.forEach((row, i) => {
        const n = last - rows.length + 1 + i;
        const fields: RunListFields = row;
        fields[seq] = n;
        fields[bucket] = Math.floor(n / RUN_LIST_BUCKET);
      });
    }),
  );
  for (const row of finished) row.recordedMs = nowMs;
}

/**
 * A list's counter: `seq`, the highest number given out; `low`, the lowest given out below 1 (by
 * the backfill of runs recorded before lists existed, placed under every run recorded since).
 */
interface RunListCounter {
  _id: string;
  seq: number;
  low?: number;
}

/**
 * The counters in `execution_list_counters`, incremented atomically by `$inc`: upward (`seq`) for
 * the runs writeFinals records, downward (`low`, from 0) for the backfill of older runs.
 */
export function mongoSequenceAllocator(db: Db, direction: 'up' | 'down' = 'up'): SequenceAllocator {
  const counters = db.collection<RunListCounter>(EXECUTION_LIST_COUNTERS_COLLECTION);
  return async (counterId, n) => {
    for (let attempt = 0; ; attempt++) {
      try {
        // Going down, `seq: 0` creates the top a reader starts from without moving it.
        const inc = direction === 'up' ? { seq: n } : { seq: 0, low: -n };
        const doc = await counters.findOneAndUpdate({ _id: counterId }, { $inc: inc }, { upsert: true, returnDocument: 'after' });
        return direction === 'up' ? doc!.seq : doc!.low! + n - 1;
      } catch (err) {
        // Two first allocations of a counter both upserting: the loser finds the row on a retry.
        if ((err as { code?: number }).code !== 11000 || attempt >= 2) throw err;
      }
    }
  };
}

export interface RunListQuery extends RunListFilter {
  /** Runs that ended at or after / before these times (epoch ms). */
  fromMs?: number;
  toMs?: number;
  limit: number;
  /** Resume strictly after this position (its value is a sequence number of this list). */
  after?: KeysetPosition;
}

export interface RunListPage {
  rows: ExecutionDocument[];
  /** Where the next page starts; null at the end of the list. */
  next: KeysetPosition | null;
}

/**
 * How far a final row may be written after its run ended and still be found by a `to` filter
 * that skips buckets recorded after it (the finalizer writes within a second unless it retries).
 */
const RECORDING_LAG_MS = 60_000;

/** Reads pages of the finished runs (see the top of this file). */
export class RunListReader {
  private readonly rows: Collection<ExecutionDocument>;
  private readonly counters: Collection<RunListCounter>;

  /** `maxBuckets`: the most bucket queries one page makes; a sparse page then ends early with a cursor. */
  constructor(
    db: Db,
    private readonly maxBuckets = 20,
  ) {
    this.rows = db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION);
    this.counters = db.collection<RunListCounter>(EXECUTION_LIST_COUNTERS_COLLECTION);
  }

  async page(q: RunListQuery): Promise<RunListPage> {
    const kind = runListKind(q);
    const { seq, bucket } = RUN_LIST_FIELDS[kind];
    const counter = await this.counters.findOne({ _id: runListCounterId(kind, q) });
    if (!counter) return { rows: [], next: null };
    const top = Math.floor(counter.seq / RUN_LIST_BUCKET);
    // The lowest bucket: 0, or below it where backfilled runs are.
    const floor = Math.min(0, Math.floor((counter.low ?? 0) / RUN_LIST_BUCKET));
    // The bucket of the first number that can follow `after` (an empty id: nothing of its number does).
    let b = q.after ? Math.min(top, Math.floor((q.after.value - (q.after.id === '' ? 1 : 0)) / RUN_LIST_BUCKET)) : top;
    if (q.toMs !== undefined && b >= floor) b = await this.lastBucketRecordedBefore(q, floor, b, q.toMs + RECORDING_LAG_MS);
    const out: ExecutionDocument[] = [];
    const seqOf = (r: ExecutionDocument) => r[seq] as number;
    // The highest number the walk can meet: what the page may hold from a bucket is known before reading it.
    const ceiling = q.after ? Math.min(counter.seq, q.after.value) : counter.seq;
    let prefetched: { b: number; rows: Promise<ExecutionDocument[]> } | undefined;
    for (let walked = 0; b >= floor; b--, walked++) {
      if (walked >= this.maxBuckets) {
        // Bounded work: resume below the buckets read so far.
        return { rows: out, next: { value: (b + 1) * RUN_LIST_BUCKET, id: '' } };
      }
      const reading = prefetched?.b === b ? prefetched.rows : this.bucket(q, bucket, b);
      // A bucket that cannot fill the page: read the next one at the same time (each read is a
      // table scan on FerretDB, so a page across two buckets costs one scan's time, not two).
      const inBucket = Math.min(ceiling, b * RUN_LIST_BUCKET + RUN_LIST_BUCKET - 1) - b * RUN_LIST_BUCKET + 1;
      prefetched = undefined;
      if (inBucket < q.limit + 1 - out.length && b > floor && walked + 1 < this.maxBuckets) {
        const rows = this.bucket(q, bucket, b - 1);
        rows.catch(() => undefined); // awaited below, or dropped when the page is full
        prefetched = { b: b - 1, rows };
      }
      const rows = await reading;
      rows.sort((x, y) => seqOf(y) - seqOf(x) || (x._id < y._id ? 1 : x._id > y._id ? -1 : 0));
      for (const r of rows) {
        if (q.after && !before(seqOf(r), r._id, q.after)) continue;
        const ended = r.endedAt ? Date.parse(r.endedAt) : r.recordedMs ?? 0;
        if (q.fromMs !== undefined && ended < q.fromMs) continue;
        if (q.toMs !== undefined && ended >= q.toMs) continue;
        out.push(r);
        if (out.length > q.limit) {
          out.pop();
          const last = out[out.length - 1];
          return { rows: out, next: { value: seqOf(last), id: last._id } };
        }
      }
      // Every older bucket was recorded before this one's first row: none of them ends after `from`.
      if (q.fromMs !== undefined && rows.length > 0 && Math.min(...rows.map((r) => r.recordedMs ?? 0)) < q.fromMs) break;
    }
    return { rows: out, next: null };
  }

  private bucket(f: RunListFilter, field: string, b: number): Promise<ExecutionDocument[]> {
    // The bucket first: FerretDB writes the conditions in this order, and PostgreSQL tests them in
    // it, so most rows are passed over on the first test (the tenant's would match most rows of a
    // big tenant).
    const filter: Record<string, unknown> = { [field]: b, tenantId: f.tenantId };
    if (f.workflowId !== undefined) filter.workflowId = f.workflowId;
    if (f.status !== undefined) filter.status = f.status;
    return this.rows.find(filter as Filter<ExecutionDocument>, { projection: { definition: 0 } }).toArray();
  }

  /**
   * The highest bucket from `lo` to `hi` holding a row recorded before `untilMs` (lo - 1 if none):
   * buckets are recorded in order, so a binary search (about log2(buckets) bucket reads).
   */
  private async lastBucketRecordedBefore(f: RunListFilter, lo: number, hi: number, untilMs: number): Promise<number> {
    const { bucket } = RUN_LIST_FIELDS[runListKind(f)];
    const firstRecorded = async (b: number) => {
      const rows = await this.bucket(f, bucket, b);
      return rows.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...rows.map((r) => r.recordedMs ?? 0));
    };
    let found = lo - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await firstRecorded(mid)) < untilMs) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}

/** Whether (seq, id) comes after `at` in the list's order (newest first). */
function before(seq: number, id: string, at: KeysetPosition): boolean {
  return seq < at.value || (seq === at.value && id < at.id);
}
