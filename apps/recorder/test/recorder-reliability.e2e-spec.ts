import { waitFor, type ServiceProcess } from '@toolpath/testing';
import { RecorderHarness, RecorderMetricNames as M, healthStatus, scrapeMetrics, sleep } from './recorder-harness';

/**
 * Exactly-once storage under failure: recorders killed with SIGKILL mid-stream, and the database
 * gone for ten seconds. Each test has its own FerretDB (so its write speed does not depend on
 * what else the machine's shared one is doing), its own stream, and a short ack wait so that
 * what a dead recorder held is redelivered within seconds.
 */

const TENANT = 'acme';
const ACK_WAIT_MS = 3000;
const BATCH_SIZE = 1000;
const WRITE_CONCURRENCY = 2;
const RECORDER_ENV = {
  RECORDER_ACK_WAIT_MS: String(ACK_WAIT_MS),
  RECORDER_BATCH_SIZE: String(BATCH_SIZE),
  RECORDER_WRITE_CONCURRENCY: String(WRITE_CONCURRENCY),
};

let h: RecorderHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function stored(rec: ServiceProcess): Promise<number> {
  return (await scrapeMetrics(rec)).get(M.stored) ?? 0;
}

/**
 * The same row count twice, 1.5 s apart: the insert a killed process had sent has landed (the
 * server finishes it; one batch takes well under a second).
 */
async function settledCount(harness: RecorderHarness): Promise<number> {
  let last = -1;
  await sleep(1000);
  return waitFor(
    async () => {
      const n = await harness.rowCount();
      const same = n === last;
      last = n;
      return same ? n : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1500, what: 'the row count to settle' },
  );
}

/** Every published event stored once: as many rows as events, and exactly their keys. */
async function expectExactlyOnce(harness: RecorderHarness, n: number): Promise<void> {
  const count = await harness.rowCount();
  if (count !== n) throw new Error(`${count} rows instead of ${n}\n${await harness.diagnostics()}`);
  const ids = await harness.storedIds();
  expect(ids.length).toBe(n);
  const distinct = new Set(ids);
  expect(distinct.size).toBe(n);
  const missing: string[] = [];
  for (let i = 0; i < n && missing.length < 10; i++) if (!distinct.has(`${TENANT}:e${i}`)) missing.push(`e${i}`);
  expect(missing).toEqual([]);
}

async function waitUntilAllAcknowledged(harness: RecorderHarness, timeoutMs: number): Promise<void> {
  await waitFor(() => harness.allAcknowledged(), { timeoutMs, intervalMs: 250, what: 'every event acknowledged' });
}

/** Seconds since `t0` at each named step, for the figures a run prints. */
function phases(t0: number) {
  const marks: Record<string, number> = {};
  return { mark: (name: string) => (marks[name] = (Date.now() - t0) / 1000), marks };
}

function logFigures(label: string, figures: Record<string, unknown>): void {
  console.log(`${label}: ${JSON.stringify(figures)}`);
}

describe('recorder reliability', () => {
  it('stores a 100 000-event stream exactly once when a recorder is killed with SIGKILL mid-stream and restarted', async () => {
    const N = 100_000;
    const t = phases(Date.now());
    h = await RecorderHarness.open('relkill', { privateDb: true });
    const first = await h.startRecorder(RECORDER_ENV);
    const publishing = h.publishSmallEvents(TENANT, N).then(() => t.mark('published'));
    publishing.catch(() => undefined); // awaited below; not unhandled if a wait fails first

    await waitFor(async () => (await stored(first)) >= N * 0.3, { timeoutMs: 60_000, intervalMs: 200, what: '30% stored' });
    await first.kill9();
    t.mark('killed');
    const before = await settledCount(h);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(N);

    const second = await h.startRecorder(RECORDER_ENV);
    await publishing;
    await waitUntilAllAcknowledged(h, 120_000);
    t.mark('allStored');

    const m = await scrapeMetrics(second);
    // What the first stored is now a duplicate for the second: it writes exactly the rest.
    expect(m.get(M.stored)).toBe(N - before);
    await expectExactlyOnce(h, N);
    t.mark('verified');
    const health = await healthStatus(second);
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: expect.any(String) });
    logFigures('kill -9 and restart', {
      ...t.marks,
      storedBeforeKill: before,
      storedAfterRestart: m.get(M.stored),
      duplicatesAfterRestart: m.get(M.duplicates),
      residentMb: Math.round((m.get('toolpath_process_resident_memory_bytes') ?? 0) / 2 ** 20),
    });
  }, 180_000);

  it('stores a 100 000-event stream exactly once with two recorders at once, one killed mid-stream and restarted', async () => {
    const N = 100_000;
    const t = phases(Date.now());
    h = await RecorderHarness.open('reltwo', { privateDb: true });
    const [a, b] = await Promise.all([h.startRecorder(RECORDER_ENV), h.startRecorder(RECORDER_ENV)]);
    const publishing = h.publishSmallEvents(TENANT, N).then(() => t.mark('published'));
    publishing.catch(() => undefined); // awaited below; not unhandled if a wait fails first

    await waitFor(async () => (await stored(a)) + (await stored(b)) >= N * 0.3, { timeoutMs: 60_000, intervalMs: 200, what: '30% stored' });
    const storedByKilled = await stored(a);
    expect(storedByKilled).toBeGreaterThan(0); // both were sharing the work
    await a.kill9();
    t.mark('killed');
    const restarted = await h.startRecorder(RECORDER_ENV);
    await publishing;
    await waitUntilAllAcknowledged(h, 120_000);
    t.mark('allStored');

    await expectExactlyOnce(h, N);
    t.mark('verified');
    const [mb, mr] = await Promise.all([scrapeMetrics(b), scrapeMetrics(restarted)]);
    expect(mb.get(M.stored)).toBeGreaterThan(0);
    expect(mr.get(M.stored)).toBeGreaterThan(0);
    // Every row was written by exactly one of the three; the killed one's count is a lower bound.
    expect(storedByKilled + mb.get(M.stored)! + mr.get(M.stored)!).toBeLessThanOrEqual(N);
    for (const rec of [b, restarted]) expect((await healthStatus(rec)).status).toBe(200);
    logFigures('two recorders, one killed', {
      ...t.marks,
      killedHadStored: storedByKilled,
      survivorStored: mb.get(M.stored),
      restartedStored: mr.get(M.stored),
      duplicates: mb.get(M.duplicates)! + mr.get(M.duplicates)!,
    });
  }, 180_000);

  it('loses nothing when the database is stopped for 10 s mid-stream, holding its batches meanwhile', async () => {
    const N = 50_000;
    const t = phases(Date.now());
    h = await RecorderHarness.open('reldb', { privateDb: true });
    const db = h.privateDb!;
    const recorder = await h.startRecorder({ ...RECORDER_ENV, DEPENDENCY_TIMEOUT_MS: '2000' });
    const publishing = h.publishSmallEvents(TENANT, N).then(() => t.mark('published'));
    publishing.catch(() => undefined); // awaited below; not unhandled if a wait fails first

    await waitFor(async () => (await stored(recorder)) >= N * 0.2, { timeoutMs: 60_000, intervalMs: 200, what: '20% stored' });
    await db.stop();
    const outageEnds = Date.now() + 10_000;
    let maxRedelivered = 0;
    let maxAckPending = 0;
    let sawNotReady = false;
    while (Date.now() < outageEnds) {
      const s = await h.consumerState();
      maxRedelivered = Math.max(maxRedelivered, s.redelivered);
      maxAckPending = Math.max(maxAckPending, s.ackPending);
      const health = await healthStatus(recorder);
      if (health.status === 503 && health.body.includes('mongo')) sawNotReady = true;
      await sleep(500);
    }
    const during = await scrapeMetrics(recorder);
    await db.start();
    t.mark('databaseBack');
    await publishing;
    await waitUntilAllAcknowledged(h, 120_000);
    t.mark('allStored');

    expect(recorder.proc.exitCode).toBeNull();
    expect(sawNotReady).toBe(true);
    expect(during.get(M.retries)).toBeGreaterThan(0);
    // It pulls no more than it can write, and keeps what it holds from being redelivered.
    expect(maxAckPending).toBeLessThanOrEqual(BATCH_SIZE * (WRITE_CONCURRENCY + 1));
    expect(maxRedelivered).toBe(0);
    await expectExactlyOnce(h, N);
    const m = await scrapeMetrics(recorder);
    // A batch the database committed just before it died is written again: at most what was in flight.
    expect(m.get(M.stored)).toBe(N - (m.get(M.duplicates) ?? 0));
    expect(m.get(M.duplicates)).toBeLessThanOrEqual(BATCH_SIZE * WRITE_CONCURRENCY);
    await waitFor(async () => (await healthStatus(recorder)).status === 200, { timeoutMs: 15_000, what: 'health back to 200' });
    logFigures('database down 10 s', {
      ...t.marks,
      writeRetries: m.get(M.retries),
      duplicates: m.get(M.duplicates),
      maxAckPending,
      maxRedelivered,
      residentMb: Math.round((m.get('toolpath_process_resident_memory_bytes') ?? 0) / 2 ** 20),
    });
  }, 180_000);
});
