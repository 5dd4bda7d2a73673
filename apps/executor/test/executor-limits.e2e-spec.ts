import { ExecutorHarness, delayStep, workflow } from './executor-harness';

jest.setTimeout(60_000);

/** Most intervals [start, end) open at one instant; an end and a start at the same ms do not overlap. */
function maxOverlap(spans: Array<{ start: number; end: number }>): number {
  const edges = spans.flatMap((s) => [
    { t: s.start, d: 1 },
    { t: s.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (open += e.d));
  return most;
}

describe('executor per-tenant concurrency limit', () => {
  const h = new ExecutorHarness({ EXECUTOR_TENANT_MAX_RUNNING_STEPS: '2' });

  beforeAll(async () => {
    await h.setup();
    await h.startExecutor();
  });
  afterAll(async () => {
    await h.teardown();
  });

  it('runs at most EXECUTOR_TENANT_MAX_RUNNING_STEPS=2 steps of a tenant at once, and completes the run', async () => {
    const id = await h.startOk({ definition: workflow(Array.from({ length: 6 }, (_, i) => delayStep(`s${i}`, 100))) });
    const run = await h.finished(id, 30_000);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => s.status)).toEqual(Array(6).fill('COMPLETED'));
    const spans = run.steps.map((s) => ({ start: Date.parse(s.startedAt!), end: Date.parse(s.endedAt!) }));
    expect(maxOverlap(spans)).toBe(2);
    // Six 100 ms steps, two at a time: at least three rounds.
    expect(run.durationMs!).toBeGreaterThanOrEqual(300);
  });

  it('counts the limit across runs of the tenant, not per run', async () => {
    const ids = await Promise.all([0, 1, 2].map(() => h.startOk({ definition: workflow([delayStep('a', 100), delayStep('b', 100)]) })));
    const runs = await Promise.all(ids.map((id) => h.finished(id, 30_000)));
    for (const r of runs) expect(r.status).toBe('COMPLETED');
    expect(maxOverlap(runs.flatMap((r) => r.steps.map((s) => ({ start: Date.parse(s.startedAt!), end: Date.parse(s.endedAt!) }))))).toBeLessThanOrEqual(2);
  });

  it('maxOverlap counts what it should', () => {
    expect(maxOverlap([{ start: 0, end: 10 }, { start: 10, end: 20 }])).toBe(1);
    expect(maxOverlap([{ start: 0, end: 10 }, { start: 5, end: 20 }, { start: 9, end: 12 }])).toBe(3);
  });
});
