import { MongoClient, type Db } from 'mongodb';
import { EXECUTIONS_COLLECTION, type ExecutionStatus, type KeysetPosition } from '@toolpath/contracts';
import { testNames, testUrls } from '@toolpath/testing';
import type { ExecutionDocument } from './execution-row';
import { RUN_LIST_BUCKET, RunListReader, assignRunListPositions, mongoSequenceAllocator, runListCounterId, type RunListQuery } from './run-list';

const T0 = Date.UTC(2026, 10, 1);

function row(n: number, tenantId: string, status: ExecutionStatus, workflowId?: string): ExecutionDocument {
  const at = new Date(T0 + n * 1000).toISOString();
  return {
    _id: `ex_${String(n).padStart(6, '0')}`,
    tenantId,
    ...(workflowId ? { workflowId } : {}),
    status,
    input: {},
    steps: [],
    startedAt: at,
    endedAt: at,
    durationMs: 0,
    parallelSpeedup: null,
    name: 'w',
    definition: { name: 'w', steps: [] } as never,
    depth: 0,
    updatedAt: new Date(),
  };
}

describe('the list of all runs (real database)', () => {
  let client: MongoClient;
  let db: Db;
  /** Rows 0..249 of acme, recorded in batches of 50 at T0 + batch minutes; every 5th FAILED; wf_a for even rows. */
  const rows: ExecutionDocument[] = [];

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('runlist').mongoDb);
    const allocate = mongoSequenceAllocator(db);
    for (let batch = 0; batch < 5; batch++) {
      const docs = Array.from({ length: 50 }, (_, i) => {
        const n = batch * 50 + i;
        return row(n, 'acme', n % 5 === 0 ? 'FAILED' : 'COMPLETED', n % 2 === 0 ? 'wf_a' : undefined);
      });
      await assignRunListPositions(docs, allocate, T0 + batch * 60_000);
      rows.push(...docs);
      await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).insertMany(docs);
    }
    const other = [row(900, 'globex', 'COMPLETED', 'wf_a'), { ...row(901, 'acme', 'RUNNING', 'wf_a') }];
    await assignRunListPositions(other, allocate, T0);
    await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).insertMany(other);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  async function all(q: Omit<RunListQuery, 'after'>, reader = new RunListReader(db)): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let after: KeysetPosition | undefined;
    let pages = 0;
    for (;;) {
      const page = await reader.page({ ...q, ...(after ? { after } : {}) });
      pages++;
      ids.push(...page.rows.map((r) => r._id));
      if (!page.next) return { ids, pages };
      after = page.next;
      if (pages > 100) throw new Error('the pages never end');
    }
  }

  const newestFirst = (pick: (r: ExecutionDocument) => boolean) =>
    rows
      .filter(pick)
      .map((r) => r._id)
      .reverse();

  it('numbers finished rows per list in creation order; a running row gets no place', async () => {
    const counter = await db.collection<{ _id: string; seq: number }>('execution_list_counters').findOne({ _id: runListCounterId('all', { tenantId: 'acme' }) });
    expect(counter?.seq).toBe(250);
    expect(rows[0].listSeq).toBe(1);
    expect(rows[249].listBucket).toBe(Math.floor(250 / RUN_LIST_BUCKET));
    expect(rows[5].stListSeq).toBe(2);
    const running = await db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION).findOne({ _id: 'ex_000901' });
    expect(running?.listSeq).toBeUndefined();
  });

  it('pages through every finished run of the tenant, newest first, without a gap or a repeat', async () => {
    const { ids, pages } = await all({ tenantId: 'acme', limit: 30 });
    expect(ids).toEqual(newestFirst(() => true));
    expect(pages).toBe(9);
  });

  it('filters by status, by workflow and by both, each in its own order', async () => {
    expect((await all({ tenantId: 'acme', status: 'FAILED', limit: 7 })).ids).toEqual(newestFirst((r) => r.status === 'FAILED'));
    expect((await all({ tenantId: 'acme', workflowId: 'wf_a', limit: 40 })).ids).toEqual(newestFirst((r) => r.workflowId === 'wf_a'));
    expect((await all({ tenantId: 'acme', workflowId: 'wf_a', status: 'FAILED', limit: 10 })).ids).toEqual(newestFirst((r) => r.workflowId === 'wf_a' && r.status === 'FAILED'));
    expect((await all({ tenantId: 'acme', status: 'RUNNING', limit: 10 })).ids).toEqual([]);
    expect((await all({ tenantId: 'nobody', limit: 10 })).ids).toEqual([]);
  });

  it('filters by the time a run ended', async () => {
    const fromMs = T0 + 60 * 1000;
    const toMs = T0 + 120 * 1000;
    const ended = (r: ExecutionDocument) => Date.parse(r.endedAt!);
    expect((await all({ tenantId: 'acme', fromMs, toMs, limit: 25 })).ids).toEqual(newestFirst((r) => ended(r) >= fromMs && ended(r) < toMs));
    expect((await all({ tenantId: 'acme', toMs: T0 + 10_000, limit: 25 })).ids).toEqual(newestFirst((r) => ended(r) < T0 + 10_000));
  });

  it('ends a page early when it has read its bucket budget, and the cursor resumes below', async () => {
    // `to` starts the walk at the last bucket recorded before it (with a minute's lag allowed):
    // bucket 1, whose rows all ended later; with a budget of one bucket the page ends there.
    const reader = new RunListReader(db, 1);
    const toMs = T0 + 10_000;
    const first = await reader.page({ tenantId: 'acme', toMs, limit: 10 });
    expect(first.rows).toEqual([]);
    expect(first.next).toEqual({ value: RUN_LIST_BUCKET, id: '' });
    expect((await all({ tenantId: 'acme', toMs, limit: 10 }, reader)).ids).toEqual(newestFirst((r) => Date.parse(r.endedAt!) < toMs));
  });
});
