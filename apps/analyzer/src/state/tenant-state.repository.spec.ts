import { MongoClient, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { resolveMiningOptions, type MiningEvent, type OpenSessionState } from '@toolpath/mining';
import { testNames, testUrls } from '@toolpath/testing';
import type { BlobRef } from './blob-store';
import { TenantLearning, type LearningOptions } from './tenant-learning';
import { TenantStateRepository } from './tenant-state.repository';

const opts: LearningOptions = { mining: resolveMiningOptions({ sessionIdleMs: 60_000 }), maxStepsPerSession: 1000 };
const T0 = 1_700_000_000_000;

/** The calls of a step: `sessions` sessions get one call each (arrival `at`), with a payload like real ones. */
function step(first: number, sessions: number, seqFrom: number, at: number, prefix = 's'): MiningEvent[] {
  return Array.from({ length: sessions }, (_, i) => ({
    streamSeq: seqFrom + i,
    tenantId: 'acme',
    sessionId: `${prefix}${first + i}`,
    kind: 'tool_call' as const,
    tool: ['search', 'open', 'edit'][(first + i + seqFrom) % 3],
    parameters: { query: `find the ${first + i}th thing`, page: seqFrom % 7 },
    result: { hits: [(first + i) * 3, seqFrom], note: 'lorem ipsum dolor sit amet '.repeat(3) },
    success: true,
    startedAt: at,
    durationMs: 5,
    arrivedAt: at,
  }));
}

const sorted = (list: OpenSessionState[]) => JSON.parse(JSON.stringify([...list].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1)))) as OpenSessionState[];

interface Head {
  open: BlobRef | null;
  openChanges?: BlobRef[];
  watermark: number;
}

describe('TenantStateRepository: open sessions as a base and changes (real database)', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('openchanges').mongoDb);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  const head = async (tenant = 'acme') => (await db.collection<Head & { _id: string }>(Collections.analyzerState).findOne({ _id: tenant }))!;

  it('writes only the sessions a step changed, and a restart reloads exactly the open sessions', async () => {
    const repo = new TenantStateRepository(db, 4 * 1024 * 1024, 0.5);
    const live = TenantLearning.fresh('acme', opts);
    // 3,000 sessions left open (no session_end): the first persist writes them as the base.
    live.addEvents(step(0, 3000, 1, T0), T0);
    live.closeSessions();
    await repo.persist(live, { deferCompaction: true });
    const base = await head();
    expect(base.open!.bytes).toBeGreaterThan(50_000);

    // A step that touches 2 of them and opens 1: a change record of those 3, a small fraction of the base.
    live.addEvents([...step(10, 2, 3001, T0 + 1000), ...step(0, 1, 3003, T0 + 1000, 'n')], T0 + 1000);
    live.closeSessions();
    await repo.persist(live, { deferCompaction: true });
    const after = await head();
    expect(after.open).toEqual(base.open);
    expect(after.openChanges).toHaveLength(1);
    expect(after.openChanges![0].bytes).toBeLessThan(base.open!.bytes / 50);

    const reloaded = await repo.load('acme', opts);
    expect(reloaded.watermark).toBe(3003);
    expect(reloaded.openSessionCount()).toBe(3001);
    expect(sorted(reloaded.assembler.openSessions())).toEqual(sorted(live.assembler.openSessions()));
  });

  it('counts every session once across a crash between a change record and the head, and restarts in between', async () => {
    const repo = new TenantStateRepository(db, 4 * 1024 * 1024, 0.5);
    const tenant = 'acme';
    await db.collection(Collections.analyzerState).deleteMany({});
    // The events of 6 steps: sessions idle out on the arrival clock as later steps arrive.
    const steps = Array.from({ length: 6 }, (_, k) => step(k * 200, 400, 1 + k * 400, T0 + k * 40_000));
    const reference = TenantLearning.fresh(tenant, opts);
    for (const events of steps) {
      reference.addEvents(events, T0);
      reference.closeSessions();
    }

    let state = TenantLearning.fresh(tenant, opts);
    for (let k = 0; k < steps.length; k++) {
      state.addEvents(steps[k], T0);
      state.closeSessions();
      if (k === 3) {
        // The process dies after writing this step's change record, before the head moves: the
        // record is an orphan; the restarted analyzer reloads and reads the step again.
        const c = state.assembler.takeOpenChanges();
        expect(c.full).toBe(false);
        if (!c.full) await repo.blobs.write(`${tenant}:oc:crashed`, Buffer.from(JSON.stringify(c)));
        state = await repo.load(tenant, opts);
        expect(state.addEvents(steps[k - 1], T0).alreadyCounted).toBe(400);
        state.addEvents(steps[k], T0);
        state.closeSessions();
      }
      await repo.persist(state, { deferCompaction: true });
      if (k % 2 === 1) state = await repo.load(tenant, opts);
    }
    const stored = await head(tenant);
    expect(stored.openChanges!.length).toBeGreaterThan(0);
    const final = await repo.load(tenant, opts);
    expect(sorted(final.assembler.openSessions())).toEqual(sorted(reference.assembler.openSessions()));
    expect(final.counter.sessionsSeen).toBe(reference.counter.sessionsSeen);
    expect(final.counter.sessionsSeen).toBe(800);
    expect(final.watermark).toBe(reference.watermark);
  });

  it('folds the changes into a new base once they outgrow the ratio, and collects the superseded blobs', async () => {
    // A tiny ratio: one session's change record is due (1 MB floor × 0.0002 = 210 bytes), but not
    // past the point a run's step folds at (4 times that).
    const repo = new TenantStateRepository(db, 4 * 1024 * 1024, 0.0002);
    await db.collection<{ _id: string }>(Collections.analyzerState).deleteMany({ _id: 'fold' });
    const state = TenantLearning.fresh('fold', opts);
    state.addEvents(step(0, 500, 1, T0).map((e) => ({ ...e, tenantId: 'fold' })), T0);
    await repo.persist(state, { deferCompaction: true });
    const first = await head('fold');
    // Past the due point but not past the deferred one: a run's step writes a change record...
    state.addEvents(step(0, 1, 501, T0 + 1).map((e) => ({ ...e, tenantId: 'fold' })), T0);
    await repo.persist(state, { deferCompaction: true });
    const second = await head('fold');
    expect(second.openChanges).toHaveLength(1);
    expect(second.openChanges![0].bytes).toBeGreaterThan(210);
    // ...and the compaction after the run writes a new base in its place.
    expect(await repo.compactIfDue(state)).toBe(false);
    const third = await head('fold');
    expect(third.open!.key).not.toBe(first.open!.key);
    expect(third.openChanges).toEqual([]);
    await expect(repo.blobs.read(first.open!)).rejects.toThrow(/missing part/);
    await expect(repo.blobs.read(second.openChanges![0])).rejects.toThrow(/missing part/);
    const reloaded = await repo.load('fold', opts);
    expect(sorted(reloaded.assembler.openSessions())).toEqual(sorted(state.assembler.openSessions()));
  });
});
