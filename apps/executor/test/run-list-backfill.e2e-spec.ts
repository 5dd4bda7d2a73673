import { MongoClient, type Db } from 'mongodb';
import { EXECUTIONS_COLLECTION, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type ExecutionView, type KeysetPosition, type ListExecutionsReply } from '@toolpath/contracts';
import { RUN_LIST_FIELD_NAMES, RunListReader, assignRunListPositions, mongoSequenceAllocator, type ExecutionDocument } from '@toolpath/execution-store';
import { dropTestResources, testNames, testUrls, waitFor } from '@toolpath/testing';
import type { ExecutorConfig } from '../src/executor.config';
import { RunListBackfill, RunListBackfillService, type BackfillLease, type BackfillResult } from '../src/runs/run-list-backfill';
import { RunStore } from '../src/runs/run-store';
import { ExecutorHarness, TENANT, delayStep, workflow } from './executor-harness';

jest.setTimeout(240_000);

/*
 * Runs recorded before the runs lists existed (final rows without list positions) are given
 * positions by the executor when it starts, and `GET /executions` (the executor's list-all) then
 * lists each of them exactly once, newest first, below every run recorded since.
 */

const OLD = Number(process.env.BACKFILL_TEST_ROWS ?? 1_200);
const T0 = Date.UTC(2026, 0, 1);
const OTHER = 'globex';
const WORKFLOWS = ['wf_a', 'wf_b', undefined];
const STATUSES: ExecutionStatus[] = ['COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLED'];

/** An old final row: ids and ends both rise with n (a run created later ended later). */
function oldRow(n: number, tenantId = n % 10 === 0 ? OTHER : TENANT, status: ExecutionStatus = STATUSES[n % 4]): ExecutionDocument {
  const ended = new Date(T0 + n * 60_000).toISOString();
  const workflowId = WORKFLOWS[n % 3];
  return {
    _id: `ex_old_${String(n).padStart(6, '0')}`,
    tenantId,
    ...(workflowId ? { workflowId } : {}),
    status,
    input: {},
    steps: [],
    startedAt: ended,
    endedAt: ended,
    durationMs: 0,
    parallelSpeedup: null,
    name: 'w',
    definition: { name: 'w', steps: [] } as never,
    depth: 0,
    updatedAt: new Date(T0 + n * 60_000),
  };
}

async function seed(db: Db, rows: ExecutionDocument[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).insertMany(rows.slice(i, i + 1000));
}

/** What the lists depend on, per row: to show that a second backfill changed nothing. */
async function positions(db: Db): Promise<Record<string, unknown>> {
  const projection = Object.fromEntries(RUN_LIST_FIELD_NAMES.map((f) => [f, 1]));
  const rows = await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).find({}, { projection }).toArray();
  return Object.fromEntries(rows.map((r) => [r._id, r]));
}

/** The expected list: finished rows of a tenant (and filter), newest end first. */
function expected(rows: ExecutionDocument[], f: { tenantId?: string; workflowId?: string; status?: string } = {}): string[] {
  return rows
    .filter((r) => TERMINAL_EXECUTION_STATUSES.has(r.status) && r.tenantId === (f.tenantId ?? TENANT))
    .filter((r) => (f.workflowId === undefined || r.workflowId === f.workflowId) && (f.status === undefined || r.status === f.status))
    .sort((a, b) => Date.parse(b.endedAt!) - Date.parse(a.endedAt!))
    .map((r) => r._id);
}

describe('the run-list backfill (real FerretDB)', () => {
  const h = new ExecutorHarness();
  let client: MongoClient;
  let db: Db;
  const old = Array.from({ length: OLD }, (_, n) => oldRow(n));
  /** A run still going when the executors were upgraded: its snapshot row gets no positions. */
  const running = { ...oldRow(OLD + 1), _id: 'ex_old_running', status: 'RUNNING' as ExecutionStatus, endedAt: null };
  /** Runs the new executor recorded before the backfill (with positions, as writeFinals gives). */
  const recent = [oldRow(OLD + 10), oldRow(OLD + 11, TENANT, 'FAILED')].map((r) => ({ ...r, _id: r._id.replace('old', 'new') }));

  /** Inserting the old rows, for scale beside the backfill's figure. */
  let seedMs = 0;

  async function listAll(body: Record<string, unknown>): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 200; pages++) {
      const r = await h.request<ListExecutionsReply>(h.subjects.listAll, { tenantId: TENANT, limit: 100, ...body, ...(cursor ? { cursor } : {}) });
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      ids.push(...r.value.items.map((v: ExecutionView) => v.id));
      if (r.value.nextCursor === null) return ids;
      cursor = r.value.nextCursor;
    }
    throw new Error('the list did not end within 200 pages');
  }

  beforeAll(async () => {
    await h.setup();
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(h.names.mongoDb);
    const t0 = Date.now();
    await seed(db, [...old, running]);
    seedMs = Date.now() - t0;
    await assignRunListPositions(recent, mongoSequenceAllocator(db));
    await seed(db, recent);
  });
  afterAll(async () => {
    await h.teardown();
    await client.close();
  });

  it('two executors starting at once: every old run listed exactly once, newest first, below the runs recorded since', async () => {
    const t0 = Date.now();
    const apps = await Promise.all([h.startExecutor(), h.startExecutor()]);
    // A run that finishes while the backfill goes on.
    const fresh = await h.startOk({ definition: workflow([delayStep('d', 20)]) });
    const results = (await Promise.all(apps.map((a) => a.get(RunListBackfillService).finished))) as BackfillResult[];
    const ms = Date.now() - t0;
    const worker = results.find((r) => r.positioned > 0)!;
    // One executor did the work (the lease); the other found nothing left once it got the lease.
    expect(results.map((r) => r.complete)).toEqual([true, true]);
    expect(results.map((r) => r.positioned).sort((a, b) => a - b)).toEqual([0, OLD]);
    console.log(`backfill of ${OLD} old runs: ${worker.ms} ms (${Math.round(OLD / (worker.ms / 1000))} rows/s; inserting them took ${seedMs} ms); both executors done ${ms} ms after their start`);

    await h.finished(fresh);
    await waitFor(() => db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).countDocuments({ _id: fresh, listSeq: { $exists: true } }).then((n) => n > 0 || undefined), {
      timeoutMs: 20_000,
      what: 'the fresh run recorded',
    });
    const all = [...old, ...recent];
    expect(await listAll({})).toEqual([fresh, ...expected(all)]);
    expect(await listAll({ tenantId: OTHER })).toEqual(expected(all, { tenantId: OTHER }));
    expect(await listAll({ workflowId: 'wf_b' })).toEqual(expected(all, { workflowId: 'wf_b' }));
    expect(await listAll({ status: 'FAILED' })).toEqual(expected(all, { status: 'FAILED' }));
    expect(await listAll({ workflowId: 'wf_a', status: 'CANCELLED' })).toEqual(expected(all, { workflowId: 'wf_a', status: 'CANCELLED' }));
    // The time filter finds old runs where they ended (their recordedMs is their end).
    const from = T0 + 100 * 60_000;
    const to = T0 + 200 * 60_000;
    const inRange = expected(all).filter((id) => {
      const end = Date.parse(all.find((r) => r._id === id)!.endedAt!);
      return end >= from && end < to;
    });
    expect(await listAll({ fromMs: from, toMs: to })).toEqual(inRange);
    const snapshot = await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).findOne({ _id: running._id });
    expect(snapshot?.listSeq).toBeUndefined();
  });

  it('a later start changes nothing, and a run finishing meanwhile is listed once, first', async () => {
    const before = await positions(db);
    const app = await h.startExecutor();
    const id = await h.startOk({ definition: workflow([delayStep('d', 50)]) });
    expect((await app.get(RunListBackfillService).finished)?.positioned).toBe(0);
    await h.finished(id);
    // Once written and retired, the run is listed from its row: exactly once, at the top.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).countDocuments({ _id: id, listSeq: { $exists: true } })) === 0) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const ids = await listAll({});
    expect(ids.filter((x) => x === id)).toHaveLength(1);
    expect(ids[0]).toBe(id);
    expect(ids.slice(2)).toEqual(expected([...old, ...recent]));
    const after = await positions(db);
    delete after[id];
    expect(after).toEqual(before);
  });
});

describe('two backfills at once whose lease lapsed (the claims in Redis alone)', () => {
  let client: MongoClient;
  let db: Db;
  const names = testNames('backfill');
  const old = Array.from({ length: 700 }, (_, n) => oldRow(n));
  const quiet = { log: () => undefined, warn: () => undefined };
  let store: RunStore;
  /** Each backfill believes it holds the lease; the claims are RunStore's, as in the executor. */
  const lapsed = (holder: string): BackfillLease => ({
    hold: async () => true,
    release: async () => undefined,
    claim: (ids, ttlMs) => store.claimOnce('run-list-backfill', ids, holder, ttlMs),
  });

  beforeAll(async () => {
    store = new RunStore({ REDIS_URL: testUrls.redis, TOOLPATH_QUEUE_PREFIX: names.queuePrefix, EXECUTOR_LOCK_DURATION_MS: 2000 } as ExecutorConfig);
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(names.mongoDb);
    await seed(db, old);
  });
  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await store.onApplicationShutdown();
    await dropTestResources(names).catch(() => undefined);
  });

  it('gives every run one set of positions, listed exactly once in order (several passes of small batches)', async () => {
    const options = { batch: 50, passRows: 300 };
    const results = await Promise.all([new RunListBackfill(db, lapsed('a'), quiet, undefined, options).run(), new RunListBackfill(db, lapsed('b'), quiet, undefined, options).run()]);
    expect(results.every((r) => r.complete)).toBe(true);
    // Rows both wrote for would be counted twice: each row was written by exactly one of them.
    expect(results[0].positioned + results[1].positioned).toBe(old.length);
    const rows = await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).find({}).toArray();
    expect(rows.every((r) => typeof r.listSeq === 'number' && r.listSeq < 1 && r.recordedMs === Date.parse(r.endedAt!))).toBe(true);
    // Racing without the lease, the two may interleave numbers (the order is the lease's to keep),
    // but no run gets two places: each is listed exactly once.
    const acme = rows.filter((r) => r.tenantId === TENANT).map((r) => r._id);
    const listed: string[] = [];
    let after: KeysetPosition | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await new RunListReader(db).page({ tenantId: TENANT, limit: 100, ...(after ? { after } : {}) });
      listed.push(...page.rows.map((r) => r._id));
      if (!page.next) break;
      after = page.next;
    }
    expect(listed).toHaveLength(acme.length);
    expect(new Set(listed)).toEqual(new Set(acme));
    // And one more backfill finds nothing.
    expect((await new RunListBackfill(db, lapsed('c'), quiet).run()).positioned).toBe(0);
  });
});
