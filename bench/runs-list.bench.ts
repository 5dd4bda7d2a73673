/**
 * The list of every run of a tenant (`GET /api/v1/executions`) with 100,000 finished runs, beside
 * a tenant of 1,000 in the same database, through the real gateway and executor over HTTP.
 * `node bench/dist/runs-list.bench.js --help` explains the phases.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { EXECUTIONS_COLLECTION, type ExecutionStatus } from '@toolpath/contracts';
import { assignRunListPositions, mongoSequenceAllocator, type ExecutionDocument } from '@toolpath/execution-store';
import { createTestEventsStream, isolatedEnv, startService, type TestNames } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { Cleanup, connectInfra, describeInfra, phaseNames, progress } from './lib/pipeline';
import { Report, quantile } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/runs-list.bench.js',
  description: `
1. Seeds a fresh database directly (a bench may write where the executor alone writes in the
   system): --runs finished runs of tenant "big" and --baseline-runs of tenant "small", as the
   executor's final rows (its row type, 3 steps each, 90 % COMPLETED, 8 % FAILED, 2 % CANCELLED,
   90 % of 20 stored workflows, the rest inline), created over the last 30 days, inserted in batches
   of 1,000 with their list positions given by the executor's own code (assignRunListPositions and
   the counters it keeps), the two tenants interleaved in time.
   A second fresh database holds only --baseline-runs runs of tenant "alone", seeded the same way.
2. Starts an executor and a gateway on 127.0.0.1 against each database (the gateways wait up to
   60 s for the executor instead of 5 s, so a slow page is measured rather than answered 503).
3. Times over HTTP, alternating the tenants, the median of --samples requests after a warm-up:
   the first page (limit 50); the 50th page of limit 20 reached by following nextCursor (the small
   tenants' last page); a page filtered by status=FAILED, by workflowId, by both, and by a time
   (runs that ended in the last 24 hours). Each figure is printed twice: beside the small tenant of
   the same database, and beside the database of 1,000 runs (big / baseline).
4. Once per tenant, for comparison, the query the per-workflow list makes (find by tenant, sort
   by _id, limit 51), read directly from the database (--old-query).
5. With --browser (needs apps/console/dist): the console's runs page in headless Chromium
   (playwright-core, $TOOLPATH_CHROMIUM or /usr/bin/chromium; loopback only), signed in as the big
   tenant and as the tenant of the 1,000-run database: from navigation to the first row drawn
   (a full page load, warm cache), and from "Load more" to the next 50 rows; median of --samples.`,
  options: {
    runs: { kind: 'int', default: 100_000, help: 'finished runs of the big tenant' },
    baselineRuns: { kind: 'int', default: 1000, help: 'finished runs of the baseline tenant' },
    samples: { kind: 'int', default: 5, help: 'timed requests per figure and tenant' },
    oldQuery: { kind: 'flag', help: 'also time the per-workflow list query directly (tens of seconds on FerretDB at 100,000)' },
    browser: { kind: 'flag', help: 'also time the console runs page in headless Chromium (needs apps/console/dist)' },
    maxMinutes: { kind: 'number', default: 20, help: 'abort (and clean up) after this long' },
  },
});

const KEYS = { big: 'key-runs-big-0123456789abcdef', small: 'key-runs-small-0123456789abcdef', alone: 'key-runs-alone-0123456789abcdef' } as const;
type Tenant = keyof typeof KEYS;
const TENANTS: Tenant[] = ['big', 'small', 'alone'];
const WORKFLOWS = 20;
const DAY = 24 * 3600_000;

/** A run's final row as the executor writes it (toExecutionDocument), created at `at`. */
function runRow(tenantId: string, i: number, at: number): ExecutionDocument {
  const status: ExecutionStatus = i % 50 === 7 ? 'CANCELLED' : i % 25 === 3 || i % 25 === 11 ? 'FAILED' : 'COMPLETED';
  const workflowId = i % 10 === 9 ? undefined : `wf_bench_${i % WORKFLOWS}`;
  const id = `ex_${at.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
  const steps = ['fetch', 'transform', 'post'].map((s, k) => ({
    id: s,
    tool: k === 1 ? 'core.transform' : `svc.${s}`,
    status: status === 'FAILED' && k === 2 ? 'FAILED' : 'COMPLETED',
    attempts: 1,
    startedAt: new Date(at + k * 40).toISOString(),
    endedAt: new Date(at + k * 40 + 35).toISOString(),
    durationMs: 35,
    ...(status === 'FAILED' && k === 2 ? { error: 'svc.post: 503 from the service' } : { result: { ok: true, n: i, step: s } }),
  }));
  return {
    _id: id,
    tenantId,
    ...(workflowId ? { workflowId, version: 1 } : {}),
    status,
    input: { order: i, customer: `c${i % 997}` },
    steps,
    startedAt: new Date(at).toISOString(),
    endedAt: new Date(at + 120).toISOString(),
    durationMs: 120,
    parallelSpeedup: 0.88,
    ...(status === 'FAILED' ? { error: 'step post failed' } : {}),
    name: workflowId ?? 'inline',
    definition: { name: workflowId ?? 'inline', steps: steps.map((s) => ({ id: s.id, tool: s.tool, parameters: {} })) } as never,
    depth: 0,
    updatedAt: new Date(at + 200),
  } as ExecutionDocument;
}

async function call(url: string, key: string): Promise<{ ms: number; body: { items: Array<{ id: string }>; nextCursor: string | null } }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, body: JSON.parse(text) };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  cleanup.guard(cli.maxMinutes * 60_000, 'runs-list.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('runs-list', { runs: cli.runs, baselineRuns: cli.baselineRuns, samples: cli.samples });
  try {
    const now = Date.now();
    /** Seeds `counts` runs per tenant into a fresh database, interleaved in time over 30 days. */
    const seed = async (label: string, counts: Partial<Record<Tenant, number>>) => {
      const names = phaseNames(label, infra, cleanup);
      await createTestEventsStream(infra.nc, names);
      const db = infra.mongo.db(names.mongoDb);
      const rows = db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION);
      const allocate = mongoSequenceAllocator(db);
      const tenants = Object.entries(counts) as Array<[Tenant, number]>;
      const total = tenants.reduce((sum, [, n]) => sum + n, 0);
      const made = Object.fromEntries(tenants.map(([t]) => [t, 0])) as Record<Tenant, number>;
      const started = performance.now();
      for (let n = 0; n < total; ) {
        const batch: ExecutionDocument[] = [];
        for (; batch.length < 1000 && n < total; n++) {
          const at = now - 30 * DAY + Math.floor((n / total) * 30 * DAY);
          // Each tenant takes its share of the timeline: the one furthest behind its share goes next.
          const [t] = tenants.reduce((a, b) => (made[a[0]] / a[1] <= made[b[0]] / b[1] ? a : b));
          batch.push(runRow(t, made[t]++, at));
        }
        await assignRunListPositions(batch, allocate);
        // Each recorded a second after it ended, as the finalizer writes (the batch is a bench's).
        for (const row of batch) row.recordedMs = Date.parse(row.endedAt!) + 1000;
        await rows.insertMany(batch, { ordered: false });
        if (n % 10_000 < 1000 || n === total) progress(`${label}: seeded ${n} / ${total} runs (${Math.round(n / ((performance.now() - started) / 1000))} rows/s)`);
      }
      report.details[`seed_${label}`] = { ...made, seconds: r1((performance.now() - started) / 1000) };
      return { names, rows };
    };
    const shared = await seed('runslist', { big: cli.runs, small: cli.baselineRuns });
    const alone = await seed('runsalone', { alone: cli.baselineRuns });

    // 2. An executor and a gateway on each database.
    const serve = async (names: TestNames, keys: string) => {
      const env = { ...isolatedEnv(names), LOG_LEVEL: 'warn' };
      const executor = await startService('executor', env);
      cleanup.add(`stop executor pid ${executor.proc.pid}`, () => executor.stop());
      const gateway = await startService('gateway', { ...env, TOOLPATH_API_KEYS: keys, GATEWAY_EXECUTOR_TIMEOUT_MS: '60000' });
      cleanup.add(`stop gateway pid ${gateway.proc.pid}`, () => gateway.stop());
      return `http://127.0.0.1:${gateway.port}`;
    };
    progress('starting the executors and the gateways');
    const sharedOrigin = await serve(shared.names, `${KEYS.big}:big,${KEYS.small}:small`);
    const aloneOrigin = await serve(alone.names, `${KEYS.alone}:alone`);
    const originOf: Record<Tenant, string> = { big: sharedOrigin, small: sharedOrigin, alone: aloneOrigin };
    const baseOf = Object.fromEntries(TENANTS.map((t) => [t, `${originOf[t]}/api/v1/executions`])) as Record<Tenant, string>;
    report.setMachine(await describeInfra(infra));

    // 3. The figures, the two tenants alternating.
    const measure = async (name: string, query: (t: Tenant) => string, note?: string) => {
      const times: Record<Tenant, number[]> = { big: [], small: [], alone: [] };
      const counts: Record<Tenant, number> = { big: 0, small: 0, alone: 0 };
      for (let i = 0; i <= cli.samples; i++) {
        for (const t of TENANTS) {
          const r = await call(`${baseOf[t]}?${query(t)}`, KEYS[t]);
          if (i > 0) times[t].push(r.ms);
          counts[t] = r.body.items.length;
        }
      }
      const med = (xs: number[]) => r1(quantile([...xs].sort((a, b) => a - b), 0.5));
      const max = (xs: number[]) => r1(Math.max(...xs));
      progress(`${name}: ${med(times.big)} ms (${counts.big} runs) vs ${med(times.small)} ms (same database, ${counts.small} runs) vs ${med(times.alone)} ms (own database, ${counts.alone} runs)`);
      const detail = `median of ${cli.samples} (max ${max(times.big)} vs ${max(times.small)} vs ${max(times.alone)} ms); runs on the page: ${counts.big} vs ${counts.small} vs ${counts.alone}${note ? `; ${note}` : ''}`;
      report.add({ name: `${name}, ${cli.runs} runs`, value: med(times.big), unit: 'ms', baseline: { name: `${cli.baselineRuns}-run tenant, same database`, value: med(times.small), unit: 'ms' }, note: detail });
      report.add({ name: `${name}, ${cli.runs} runs`, value: med(times.big), unit: 'ms', baseline: { name: `${cli.baselineRuns}-run database`, value: med(times.alone), unit: 'ms' } });
    };
    progress(`timing (${cli.samples} samples per figure and tenant after a warm-up)`);
    await measure('first page (limit 50)', () => 'limit=50');

    // The cursor of page 50 (limit 20), reached by following nextCursor, and the walk's time.
    const deep: Record<Tenant, string> = { big: '', small: '', alone: '' };
    const walkMs: Record<Tenant, number> = { big: 0, small: 0, alone: 0 };
    for (const t of TENANTS) {
      let cursor: string | null = null;
      const t0 = performance.now();
      for (let page = 1; page < 50; page++) {
        const r: Awaited<ReturnType<typeof call>> = await call(`${baseOf[t]}?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, KEYS[t]);
        cursor = r.body.nextCursor;
        if (cursor === null) throw new Error(`tenant ${t} has fewer than 50 pages of 20`);
      }
      walkMs[t] = performance.now() - t0;
      deep[t] = cursor!;
    }
    report.details.walk49PagesMs = { big: r1(walkMs.big), small: r1(walkMs.small), alone: r1(walkMs.alone) };
    await measure('page 50 (limit 20, by cursor)', (t) => `limit=20&cursor=${encodeURIComponent(deep[t])}`, `following 49 cursors to it took ${r1(walkMs.big)} vs ${r1(walkMs.small)} vs ${r1(walkMs.alone)} ms`);
    await measure('status=FAILED (limit 50)', () => 'limit=50&status=FAILED');
    await measure('workflowId (limit 50)', () => 'limit=50&workflowId=wf_bench_3');
    await measure('workflowId + status=FAILED (limit 50)', () => 'limit=50&workflowId=wf_bench_3&status=FAILED');
    const dayAgo = Date.now() - DAY;
    await measure('ended in the last 24 h (limit 50)', () => `limit=50&from=${dayAgo}`);

    // 4. The per-workflow list's query, directly (what a page cost before the list positions).
    if (cli.oldQuery) {
      for (const t of ['small', 'big'] as const) {
        progress(`the per-workflow list's query for tenant ${t} (find tenant, sort _id, limit 51)`);
        const t0 = performance.now();
        await shared.rows.find({ tenantId: t }, { projection: { definition: 0 } }).sort({ _id: -1 }).limit(51).toArray();
        report.details[`oldQueryMs_${t}`] = r1(performance.now() - t0);
      }
      report.note(`the per-workflow list's query (sort by _id over the tenant): ${report.details.oldQueryMs_big} ms at ${cli.runs} runs vs ${report.details.oldQueryMs_small} ms at ${cli.baselineRuns}, one sample each`);
    }
    if (cli.browser) await timeBrowser(originOf, report, cleanup);
    report.note('on FerretDB v1 (equality pushdown only) every bucket read scans the whole collection in PostgreSQL: the cost follows the size of the collection, not of the tenant');
  } finally {
    await cleanup.run();
  }
  report.print();
  report.write(cli.json);
}

/** Step 5: the runs page in Chromium, big tenant vs the 1,000-run database. */
async function timeBrowser(originOf: Record<Tenant, string>, report: Report, cleanup: Cleanup): Promise<void> {
  if (!existsSync(resolve(__dirname, '../../apps/console/dist/index.html'))) throw new Error('apps/console/dist is not built (cd apps/console && npx vite build)');
  progress('the runs page in Chromium');
  const browser = await chromium.launch({
    executablePath: process.env.TOOLPATH_CHROMIUM ?? '/usr/bin/chromium',
    // playwright-core gives the browser a fresh temporary profile (--user-data-dir) of its own.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
  cleanup.add('close the browser', () => browser.close());
  const firstRows: Record<string, number[]> = { big: [], alone: [] };
  const more: Record<string, number[]> = { big: [], alone: [] };
  const pages: Partial<Record<Tenant, Page>> = {};
  for (const t of ['big', 'alone'] as const) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const signIn = await context.request.post(`${originOf[t]}/api/v1/session`, { data: { apiKey: KEYS[t] } });
    if (signIn.status() !== 201) throw new Error(`sign-in as ${t}: ${signIn.status()}`);
    pages[t] = await context.newPage();
  }
  const rows = (page: Page) => page.locator('tbody tr');
  for (let i = 0; i <= cli.samples; i++) {
    for (const t of ['big', 'alone'] as const) {
      const page = pages[t]!;
      const t0 = performance.now();
      await page.goto(`${originOf[t]}/runs`);
      await page.locator('tbody tr a').first().waitFor({ state: 'visible', timeout: 60_000 });
      const loaded = performance.now() - t0;
      const t1 = performance.now();
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('tbody tr').length > 50, undefined, { timeout: 60_000 });
      const next = performance.now() - t1;
      if ((await rows(page).count()) > 100) throw new Error('more rows than two pages');
      if (i > 0) {
        firstRows[t].push(loaded);
        more[t].push(next);
      }
    }
  }
  const med = (xs: number[]) => r1(quantile([...xs].sort((a, b) => a - b), 0.5));
  report.add({ name: `runs page: navigation to first rows, ${cli.runs} runs`, value: med(firstRows.big), unit: 'ms', baseline: { name: `${cli.baselineRuns}-run database`, value: med(firstRows.alone), unit: 'ms' }, note: `Chromium, full page load with a warm cache, median of ${cli.samples}` });
  report.add({ name: `runs page: "Load more" to the next 50 rows, ${cli.runs} runs`, value: med(more.big), unit: 'ms', baseline: { name: `${cli.baselineRuns}-run database`, value: med(more.alone), unit: 'ms' } });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
