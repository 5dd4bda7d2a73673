import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import type { Counter, Gauge } from 'prom-client';
import { EXECUTIONS_COLLECTION, TERMINAL_EXECUTION_STATUSES } from '@toolpath/contracts';
import { RUN_LIST_FIELD_NAMES, assignRunListPositions, mongoSequenceAllocator, type ExecutionDocument, type RunListFields } from '@toolpath/execution-store';
import { inWriteChunks, MetricsService } from '@toolpath/platform';
import { RunStore } from './run-store';

/**
 * Gives the finished runs recorded before the runs lists existed their list positions, so that
 * an upgraded executor lists its whole history (`GET /executions`, libs/execution-store run-list.ts).
 *
 * Order: newest first, each batch numbered downward from 0 (`low` of each list's counter), so
 * every old run sits below every run recorded since the upgrade, the list stays newest first
 * while the backfill goes on, and the console shows the recent history first. Positions come
 * from assignRunListPositions, the function writeFinals uses; `recordedMs` is the run's end, so
 * the lists' time filters find old runs where they ended.
 *
 * Finding the rows: FerretDB v1 pushes no `$exists`, sort or range down, so every query for rows
 * without positions reads the whole table; one cursor walks it once per pass and keeps the
 * newest PASS_ROWS rows found (their id, tenant, workflow, status, end), and only those few
 * fields: a bounded sort in memory instead of one table scan per batch.
 *
 * Several executors: one backfills at a time (a lease in Redis, renewed while it works); the
 * others wait for it and then find nothing left. Should two still overlap (a lease lapsed under a
 * stalled executor), each row is claimed in Redis before it is numbered (`SET NX`, atomic), so no
 * run is numbered twice: FerretDB v1 does an update as read, then write, so the conditional write
 * below (`listSeq: { $exists: false }` with the `_id`) alone let two backfills both write one row
 * (1,086 writes for 700 rows here). The condition still keeps a row that writeFinals numbered
 * meanwhile as it is.
 */

/** Rows given positions per write (and per counter increment of each list). */
export const BACKFILL_BATCH = 500;
/** The most rows one pass keeps in memory (about 200 bytes each). */
const PASS_ROWS = 20_000;
/** The most time one batch may take before the pass stops and is retried later. */
const BATCH_TIMEOUT_MS = 30_000;
const LEASE = 'run-list-backfill';
const LEASE_TTL_MS = 30_000;
/** How often an executor waiting for the lease asks again. */
const LEASE_POLL_MS = 2_000;
/** How long a claimed row stays claimed: long past its batch (a row claimed and not written waits that long). */
const CLAIM_TTL_MS = 10 * 60_000;
/** How long shutdown waits for the batch under way. */
const SHUTDOWN_WAIT_MS = 5_000;
/** How often progress is logged at most. */
const LOG_EVERY_MS = 5_000;

const TERMINAL = [...TERMINAL_EXECUTION_STATUSES];

/** What a pass reads of each row: what the positions depend on, and the run's end. */
type OldRow = Pick<ExecutionDocument, '_id' | 'tenantId' | 'workflowId' | 'status' | 'endedAt' | 'updatedAt'>;

export interface BackfillOptions {
  batch?: number;
  passRows?: number;
  batchTimeoutMs?: number;
  leaseTtlMs?: number;
  leasePollMs?: number;
}

/** Where the backfill takes its turn among the executors. */
export interface BackfillLease {
  /** Takes or renews the lease; false while another executor has it. */
  hold(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
  /** Of these run ids, the ones this backfill takes now (no other backfill has them). */
  claim(ids: string[], ttlMs: number): Promise<string[]>;
}

export interface BackfillProgress {
  positioned(n: number): void;
  remaining(n: number): void;
}

export interface BackfillResult {
  /** Rows this backfill gave positions. */
  positioned: number;
  ms: number;
  /** False when it stopped early (shutdown, or the lease went to another executor). */
  complete: boolean;
}

/** The backfill itself, without Nest: a database, a lease, a log. */
export class RunListBackfill {
  private readonly rows: Collection<ExecutionDocument>;
  private readonly batch: number;
  private readonly passRows: number;
  private readonly batchTimeoutMs: number;
  private readonly leaseTtlMs: number;
  private readonly leasePollMs: number;
  private stopped = false;
  private leaseLost = false;
  private wake?: () => void;

  constructor(
    private readonly db: Db,
    private readonly lease: BackfillLease,
    private readonly log: Pick<Logger, 'log' | 'warn'>,
    private readonly progress: BackfillProgress = { positioned: () => undefined, remaining: () => undefined },
    options: BackfillOptions = {},
  ) {
    this.rows = db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION);
    this.batch = options.batch ?? BACKFILL_BATCH;
    this.passRows = options.passRows ?? PASS_ROWS;
    this.batchTimeoutMs = options.batchTimeoutMs ?? BATCH_TIMEOUT_MS;
    this.leaseTtlMs = options.leaseTtlMs ?? LEASE_TTL_MS;
    this.leasePollMs = options.leasePollMs ?? LEASE_POLL_MS;
  }

  /** Asks a running backfill to stop after the write under way. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /**
   * Runs until no finished row lacks positions (or stop()): waits for the lease while another
   * executor has it, and retries a pass that failed after a pause.
   */
  async run(): Promise<BackfillResult> {
    const started = Date.now();
    let positioned = 0;
    while (!this.stopped) {
      let held = false;
      let failed = false;
      try {
        held = await this.lease.hold(this.leaseTtlMs);
        if (held) {
          const pass = await this.holding(() => this.passes());
          positioned += pass.positioned;
          if (pass.complete) return { positioned, ms: Date.now() - started, complete: true };
        }
      } catch (err) {
        failed = true;
        this.log.warn(`run-list backfill: ${(err as Error).message}; retrying in ${this.leaseTtlMs} ms`);
      } finally {
        if (held) await this.lease.release().catch(() => undefined);
      }
      await this.pause(failed ? this.leaseTtlMs : this.leasePollMs);
    }
    return { positioned, ms: Date.now() - started, complete: false };
  }

  /** Runs `work` while renewing the lease; a renewal refused stops the work after its batch. */
  private async holding<T>(work: () => Promise<T>): Promise<T> {
    this.leaseLost = false;
    const renew = setInterval(() => {
      this.lease.hold(this.leaseTtlMs).then(
        (ok) => {
          if (!ok) this.leaseLost = true;
        },
        () => undefined, // a Redis hiccup: the next renewal tries again
      );
    }, Math.max(100, Math.floor(this.leaseTtlMs / 3)));
    renew.unref();
    try {
      return await work();
    } finally {
      clearInterval(renew);
    }
  }

  /** Passes until one finds fewer rows than it may keep (the last), or the backfill stops. */
  private async passes(): Promise<{ positioned: number; complete: boolean }> {
    let positioned = 0;
    const started = Date.now();
    for (;;) {
      const { rows, more } = await this.scan();
      if (this.halted()) return { positioned, complete: false };
      if (rows.length === 0) {
        this.progress.remaining(0);
        if (positioned > 0) this.log.log(`run-list backfill done: ${positioned} runs in ${seconds(Date.now() - started)} s`);
        return { positioned, complete: true };
      }
      this.log.log(`run-list backfill: ${rows.length}${more ? '+' : ''} finished runs without list positions, newest first`);
      let lastLog = Date.now();
      const before = positioned;
      for (let i = 0; i < rows.length; i += this.batch) {
        if (this.halted()) return { positioned, complete: false };
        positioned += await within(this.write(rows.slice(i, i + this.batch)), this.batchTimeoutMs, `a batch of ${this.batch} rows`);
        const left = rows.length - Math.min(rows.length, i + this.batch);
        this.progress.remaining(left);
        if (Date.now() - lastLog >= LOG_EVERY_MS || left === 0) {
          lastLog = Date.now();
          const rate = Math.round(positioned / Math.max(0.001, (Date.now() - started) / 1000));
          this.log.log(`run-list backfill: ${positioned} done, ${left}${more ? '+' : ''} left (${rate} rows/s)`);
        }
      }
      // Nothing done: the rows left are claimed by another backfill (which writes them, or whose
      // claims lapse for the next start's backfill); another pass would find the same rows.
      if (!more || positioned === before) {
        // Rows an older executor wrote during this pass are left to the next start's backfill.
        this.progress.remaining(0);
        this.log.log(`run-list backfill done: ${positioned} runs in ${seconds(Date.now() - started)} s`);
        return { positioned, complete: true };
      }
    }
  }

  /** The newest rows without positions (at most passRows), newest first; `more` if some were left out. */
  private async scan(): Promise<{ rows: OldRow[]; more: boolean }> {
    const filter = { listSeq: { $exists: false }, status: { $in: TERMINAL } } as Filter<ExecutionDocument>;
    const cursor = this.rows.find<OldRow>(filter, {
      projection: { _id: 1, tenantId: 1, workflowId: 1, status: 1, endedAt: 1, updatedAt: 1 },
      batchSize: this.batch,
    });
    let rows: OldRow[] = [];
    let more = false;
    const trim = () => {
      rows.sort(newestFirst);
      if (rows.length > this.passRows) {
        more = true;
        rows = rows.slice(0, this.passRows);
      }
    };
    try {
      for await (const row of cursor) {
        if (this.halted()) break;
        rows.push(row);
        if (rows.length >= 2 * this.passRows) trim();
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
    trim();
    return { rows, more };
  }

  /** Gives one batch its positions (below every number given so far); returns the rows written. */
  private async write(batch: OldRow[]): Promise<number> {
    const mine = new Set(await this.lease.claim(batch.map((r) => r._id), CLAIM_TTL_MS));
    const docs = batch.filter((r) => mine.has(r._id)).map((r) => ({ ...r }) as ExecutionDocument);
    if (docs.length === 0) return 0;
    await assignRunListPositions(docs, mongoSequenceAllocator(this.db, 'down'));
    const ops: Array<AnyBulkWriteOperation<ExecutionDocument>> = docs.map((doc) => {
      const fields: RunListFields = {};
      for (const name of RUN_LIST_FIELD_NAMES) (fields as Record<string, unknown>)[name] = doc[name];
      fields.recordedMs = endedMs(doc) || Date.now();
      return {
        updateOne: {
          filter: { _id: doc._id, listSeq: { $exists: false } } as Filter<ExecutionDocument>,
          update: { $set: fields },
        },
      };
    });
    let modified = 0;
    // A command's worth at a time, one after the other (MAX_WRITES_PER_COMMAND: larger update commands hang FerretDB v1).
    await inWriteChunks(ops, async (chunk) => {
      const res = await this.rows.bulkWrite(chunk, { ordered: false, maxTimeMS: this.batchTimeoutMs });
      modified += res.modifiedCount;
    });
    return modified;
  }

  private halted(): boolean {
    return this.stopped || this.leaseLost;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** Starts the backfill once the executor is up, in the background (readiness does not wait). */
@Injectable()
export class RunListBackfillService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('RunListBackfill');
  private readonly backfill: RunListBackfill;
  /** Settles when the backfill has ended (done, stopped or failed); for tests and shutdown. */
  finished: Promise<BackfillResult | undefined> = Promise.resolve(undefined);

  constructor(@InjectConnection() connection: Connection, store: RunStore, metrics: MetricsService) {
    const done: Counter = metrics.counter('toolpath_executor_run_list_backfilled_total', 'Old finished runs this executor gave runs-list positions');
    const left: Gauge = metrics.gauge('toolpath_executor_run_list_backfill_remaining', 'Old finished runs the backfill found without runs-list positions and has not done yet');
    const lease: BackfillLease = {
      hold: (ttlMs) => store.holdLease(LEASE, store.executorId, ttlMs),
      release: () => store.releaseLease(LEASE, store.executorId),
      claim: (ids, ttlMs) => store.claimOnce(LEASE, ids, store.executorId, ttlMs),
    };
    this.backfill = new RunListBackfill(connection.db!, lease, this.log, { positioned: (n) => done.inc(n), remaining: (n) => left.set(n) });
  }

  onApplicationBootstrap(): void {
    this.finished = this.backfill.run().catch((err: Error) => {
      this.log.warn(`run-list backfill failed: ${err.message}`);
      return undefined;
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.backfill.stop();
    // The write under way is let finish, for a while: one left behind is harmless (see above).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.finished, new Promise((r) => (timer = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
  }
}

function endedMs(r: OldRow): number {
  const ended = r.endedAt ? Date.parse(r.endedAt) : NaN;
  if (!Number.isNaN(ended)) return ended;
  return r.updatedAt instanceof Date ? r.updatedAt.getTime() : 0;
}

function newestFirst(a: OldRow, b: OldRow): number {
  return endedMs(b) - endedMs(a) || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** `p`, or an error once `ms` have passed (the write may still land: its condition keeps it harmless). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
