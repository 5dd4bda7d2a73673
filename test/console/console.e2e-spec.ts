/**
 * The web console in a real browser against the whole system: the five apps from dist on the real
 * NATS, Redis and FerretDB (isolated names), the gateway serving the built console
 * (apps/console/dist) at `/`, Debian's Chromium driven by playwright-core.
 *
 * The walk is the one issue 14 asks for, as a person would do it: sign in (a wrong key first),
 * import the sample log with `toolpath-import`, mine it from the Patterns page, open the process
 * map, promote a learned pattern, run it with its tools served over NATS and watch its DAG turn
 * green, look at sessions, generate a draft offline and apply it, change it in the builder, save,
 * diff the versions, and sign out. Every
 * page is saved as a screenshot ($TOOLPATH_DATA_DIR/test-results/console/<page>.png) and checked
 * with axe-core: no violation of impact serious or critical on any page (all findings are written
 * to axe.json beside the screenshots).
 *
 * It builds nothing: `npm test` (scripts/setup.sh) builds the console and scripts/browser.sh
 * installs Chromium (TOOLPATH_CHROMIUM). By hand: `npm run build && npx jest test/console`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { BUILTIN_TOOL_NAMES, NATS_TOOL_NAME_PATTERN } from '@toolpath/contracts';
import { serveTool, type ToolServer } from '@toolpath/sdk';
import { repoRoot, startWholeSystem, testUrls, type WholeSystem } from '@toolpath/testing';

const API_KEY = 'console-e2e-key-0123456789abcdef';
/** Another tenant's key: what it stores must not show in the console's tenant. */
const OTHER_KEY = 'console-e2e-other-0123456789abcdef';
const CONSOLE_DIR = join(repoRoot, 'apps', 'console', 'dist');
const CHROMIUM = process.env.TOOLPATH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(process.env.TOOLPATH_DATA_DIR ?? join(repoRoot, '.data'), 'test-results', 'console');
const AXE = require.resolve('axe-core/axe.min.js');
/** Every wait in the browser is bounded by this (navigation, a locator, an answer). */
const WAIT_MS = 15_000;
/** The project's sample process log: 70 orders, each a case of tool calls, with its intent. */
const SAMPLE_LOG = join(repoRoot, 'libs', 'log-import', 'samples', 'orders.csv');
const IMPORT_BIN = join(repoRoot, 'libs', 'log-import', 'bin', 'toolpath-import.js');
/** Tools of the sample log the process map must show. */
const LOG_TOOLS = ['crm.lookup_customer', 'orders.get', 'payments.refund'];

let system: WholeSystem | undefined;
let base = '';
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
/** The workflow promoted from a learned pattern, and the tool servers that run its steps. */
let promoted: { id: string; name: string; steps: Array<{ id: string; tool: string }> } | undefined;
let nc: NatsConnection | undefined;
const toolServers: ToolServer[] = [];
/** Calls the served tools received: the run really went through them. */
const toolCalls: string[] = [];
/** The workflow the generator drafted and the console applied. */
let generatedId = '';
/** What the browser did that it must not: uncaught errors, CSP refusals, requests off loopback. */
const faults: string[] = [];
/** axe-core's findings per page, all impacts; the last test fails on serious or critical ones. */
const axeFindings: Record<string, Array<{ id: string; impact: string | null; help: string; targets: string[]; first?: string }>> = {};

const rest = (method: string, path: string, body?: unknown): Promise<any> => system!.rest(method, path, body);

beforeAll(async () => {
  // Preconditions first, each with what to do about it.
  if (!existsSync(join(CONSOLE_DIR, 'index.html'))) throw new Error(`${CONSOLE_DIR}/index.html is missing: build the console first (npm run build, or scripts/setup.sh)`);
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/browser.sh (it installs Debian's chromium) and set TOOLPATH_CHROMIUM to the path it prints`);
  mkdirSync(SHOTS, { recursive: true });

  // The generator's LLM is the project's fake OpenAI-compatible server: nothing leaves the machine.
  // The analyzer mines only when asked (Mine now): a scheduled run could mine the import first.
  const noDraft = { explanation: 'none', workflow: { name: 'x', description: 'x', steps: [] }, missingTools: [], reusedWorkflowIds: [] };
  system = await startWholeSystem({ label: 'console', apiKey: API_KEY, tenantId: 'console', llmFallback: { content: noDraft }, env: { GATEWAY_CONSOLE_DIR: CONSOLE_DIR, TOOLPATH_API_KEYS: `${API_KEY}:console,${OTHER_KEY}:other`, GATEWAY_QUEUES_TENANTS: 'console', ANALYZER_SCHEDULE: 'off' } });
  base = system.base;
  nc = await connect({ servers: testUrls.nats, timeout: 5_000 });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright-core gives the browser a fresh temporary profile (--user-data-dir) of its own.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    timeout: WAIT_MS,
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  // Loopback only: anything else the page asks for is refused and counted as a fault.
  await context.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    (route) => {
      faults.push(`request off loopback: ${route.request().url()}`);
      return route.abort();
    },
  );
  page = await context.newPage();
  page.on('pageerror', (err) => faults.push(`uncaught in the page (${page.url()}): ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) faults.push(`CSP refusal (${page.url()}): ${msg.text()}`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await Promise.all(toolServers.map((t) => t.stop().catch(() => undefined)));
  await nc?.close().catch(() => undefined);
  await system?.stop();
}, 60_000);

/**
 * The page asked for is shown: its h1 (pages load lazily, and the previous page stays until the
 * next one's code is in, so a page is recognised by its own heading), then no "Loading…" left.
 */
async function settled(h1: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: h1 }).first().waitFor({ state: 'visible' });
  await page.getByText('Loading…', { exact: true }).first().waitFor({ state: 'hidden' });
}

/** Headings per page: exactly one h1 each. */
const h1Counts: Record<string, number> = {};

let axeSource: string | undefined;

/** A screenshot of the page as it is now, and axe-core's findings for it. */
async function record(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, timeout: WAIT_MS });
  // axe-core from node_modules, evaluated in the page: a script tag (page.addScriptTag) would be an
  // inline script, which the console's Content-Security-Policy refuses, as it should.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate((axeSource ??= readFileSync(AXE, 'utf8')));
  const result = await page.evaluate(() => (globalThis as any).axe.run({ resultTypes: ['violations'] }));
  h1Counts[name] = await page.getByRole('heading', { level: 1 }).count();
  axeFindings[name] = (result.violations as any[]).map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n: any) => String(n.target)), first: v.nodes[0]?.failureSummary }));
}

const path = () => new URL(page.url()).pathname;
/** A click on a page's link in the navigation, as a person would get there. */
const nav = (label: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: label, exact: true }).click();

/** A step of the walk through: when it fails, the page as it was is saved (failed-<name>.png). */
const walk = (name: string, body: () => Promise<void>) => async () => {
  try {
    await body();
  } catch (err) {
    await page?.screenshot({ path: join(SHOTS, `failed-${name}.png`), fullPage: true, timeout: WAIT_MS }).catch(() => undefined);
    throw err;
  }
};

describe('the web console in Chromium', () => {
  it('sends a visitor without a session to sign-in, refuses a wrong key with a message, and signs in with the right one', walk('sign-in', async () => {
    // The JavaScript of the first load (sign-in, then the overview), as sent: compressed.
    const scripts: Array<Promise<{ url: string; bytes: number; encoding: string }>> = [];
    const onScript = (req: Request) => {
      if (req.resourceType() === 'script') scripts.push((async () => ({ url: req.url(), bytes: (await req.sizes()).responseBodySize, encoding: (await req.response())?.headers()['content-encoding'] ?? 'identity' }))());
    };
    page.on('requestfinished', onScript);
    await page.goto(`${base}/`);
    await page.waitForURL((u) => u.pathname === '/signin');
    await settled('Sign in to Toolpath');
    const key = page.getByLabel('API key');
    await key.fill('wrong-key-0123456789abcdef');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor({ state: 'visible' });
    expect(path()).toBe('/signin');
    await record('signin');

    // This time from the keyboard: the key, then Enter.
    await key.fill(API_KEY);
    await key.press('Enter');
    await page.waitForURL((u) => u.pathname === '/');
    await settled('Overview');
    page.off('requestfinished', onScript);
    const firstLoad = await Promise.all(scripts);
    const firstLoadBytes = firstLoad.reduce((n, s) => n + s.bytes, 0);
    writeFileSync(join(SHOTS, 'first-load.json'), JSON.stringify({ bytes: firstLoadBytes, scripts: firstLoad }, null, 2));
    // Issue 14's budget: at most 250 KB of compressed JavaScript before the first page shows.
    expect(firstLoad.every((s) => s.encoding === 'br' || s.encoding === 'gzip')).toBe(true);
    expect(firstLoadBytes).toBeLessThanOrEqual(250 * 1024);
    await page.getByText('tenant console').waitFor({ state: 'visible' });
    // The session is a cookie the page's scripts cannot read.
    const cookies = await context.cookies(base);
    expect(cookies.find((c) => c.name === 'toolpath_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).toBe('');
    await record('overview');
  }), 60_000);

  it('imports the sample log, mines it from the Patterns page and lists what was learned', walk('mine', async () => {
    // The importer publishes straight to NATS, as it does for a user (README: "From a process log").
    const { stdout } = await promisify(execFile)(process.execPath, [IMPORT_BIN, '--tenant', 'console', '--subject-prefix', system!.names.subjectPrefix, '--nats-url', testUrls.nats, '--quiet', '--json', SAMPLE_LOG], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toMatchObject({ cases: 70, dropped: 0, skipped: 0 });

    await nav('Patterns');
    await page.waitForURL((u) => u.pathname === '/patterns');
    await settled('Patterns');
    await page.getByRole('button', { name: 'Mine now' }).click();
    await page.getByRole('status').filter({ hasText: /^Mined \d+ events: 70 sessions closed/ }).waitFor({ state: 'visible', timeout: 40_000 });
    await page.locator('main a[href^="/patterns/"]').first().waitFor({ state: 'visible' });
    await record('patterns');
  }), 90_000);

  it('draws the process map of the imported log, and the overview counts it', walk('process-map', async () => {
    await nav('Process map');
    await page.waitForURL((u) => u.pathname === '/process');
    await settled('Process map');
    for (const tool of LOG_TOOLS) await page.locator('main .react-flow__node', { hasText: tool }).first().waitFor({ state: 'visible' });
    await record('process-map');
    await nav('Overview');
    await page.waitForURL((u) => u.pathname === '/');
    await settled('Overview');
    await page.locator('main').getByText('crm.lookup_customer').first().waitFor({ state: 'visible' });
    // The figures are read again when the page opens: wait for the imported log's 366 calls, not
    // the empty figures cached from before the import.
    await page.locator('main').getByText('366', { exact: true }).first().waitFor({ state: 'visible' });
    await page.locator('main').getByText('No session yet.').waitFor({ state: 'hidden' });
    await record('overview-learned');
  }), 60_000);

  it('opens a learned pattern, sees its workflow as a DAG and promotes it to the catalog', walk('promote', async () => {
    // The best pattern whose tools a service can serve over NATS (a log's activity may be any text).
    const patterns = (await rest('GET', '/api/v1/patterns?sort=score&limit=50')).items as Array<{ id: string; tools: string[] }>;
    const pattern = patterns.find((p) => p.tools.length >= 3 && p.tools.every((t) => NATS_TOOL_NAME_PATTERN.test(t)));
    expect(pattern).toBeDefined();
    await page.locator(`main a[href="/patterns/${encodeURIComponent(pattern!.id)}"]`).click();
    await page.waitForURL((u) => u.pathname === `/patterns/${encodeURIComponent(pattern!.id)}`);
    const promote = page.getByRole('button', { name: /promote/i });
    await promote.waitFor({ state: 'visible' });
    await settled(/./);
    for (const tool of pattern!.tools) await page.locator('main .react-flow__node', { hasText: tool }).first().waitFor({ state: 'visible' });
    await record('pattern');

    await promote.click();
    const workflowLink = page.locator('main a[href^="/workflows/"]').first();
    await workflowLink.waitFor({ state: 'visible' });
    await workflowLink.click();
    await page.waitForURL((u) => /^\/workflows\/[^/]+$/.test(u.pathname));
    promoted = await rest('GET', `/api/v1/workflows/${decodeURIComponent(path().split('/')[2])}`);
    await settled(promoted!.name);
    expect(promoted!.steps.map((s) => s.tool)).toEqual(pattern!.tools);
    await record('workflow-promoted');
  }), 60_000);

  it('runs the promoted workflow with its tools served over NATS and watches its DAG turn green', walk('run', async () => {
    for (const tool of new Set(promoted!.steps.map((s) => s.tool).filter((t) => !BUILTIN_TOOL_NAMES.has(t)))) {
      toolServers.push(
        await serveTool(nc!, { name: tool, description: `the sample log's ${tool}, served by the test`, inputSchema: { type: 'object' } }, async (params: Record<string, unknown>, c) => {
          toolCalls.push(`${c.stepId}:${tool}`);
          // Slow enough that the page sees steps running before they complete.
          await new Promise((r) => setTimeout(r, 300));
          return { ok: true, tool, order: params.order_id };
        }, { prefix: system!.names.subjectPrefix }),
      );
    }
    const form = page.getByRole('form', { name: 'Run input' });
    for (const input of await form.getByRole('textbox').all()) await input.fill('50001');
    await record('workflow');
    await form.getByRole('button', { name: 'Run' }).click();
    await page.waitForURL((u) => /^\/runs\/[^/]+$/.test(u.pathname));
    const runId = decodeURIComponent(path().split('/')[2]);
    await settled(new RegExp(runId));
    // Live (server-sent events): every step's node turns green, then the run says "completed".
    const nodes = page.locator('main .react-flow__node');
    await page.locator('main .react-flow__node [title="completed"]').nth(promoted!.steps.length - 1).waitFor({ state: 'visible', timeout: 30_000 });
    expect(await nodes.count()).toBe(promoted!.steps.length);
    await page.locator('main').getByText(/^completed$/i).first().waitFor({ state: 'visible' });
    await record('run');
    expect(await rest('GET', `/api/v1/executions/${runId}`)).toMatchObject({ status: 'COMPLETED', workflowId: promoted!.id });
    expect(toolCalls).toEqual(promoted!.steps.map((s) => `${s.id}:${s.tool}`));

    await nav('Runs');
    await page.waitForURL((u) => u.pathname === '/runs');
    await settled('Runs');
    await page.locator('main').getByRole('link', { name: runId }).waitFor({ state: 'visible' });
    await record('runs');
  }), 90_000);

  it('lists the imported sessions, finds one by its intent and shows its calls on a timeline', walk('sessions', async () => {
    await nav('Sessions');
    await page.waitForURL((u) => u.pathname === '/sessions');
    await settled('Sessions');
    await page.getByLabel('Search by intent').fill('REFUND ORDER');
    const link = page.locator('main a[href^="/sessions/"]').first();
    await link.waitFor({ state: 'visible' });
    await record('sessions');
    await link.click();
    await page.waitForURL((u) => /^\/sessions\/[^/]+$/.test(u.pathname));
    await settled(/refund order/i);
    await page.locator('main').getByText('crm.lookup_customer').first().waitFor({ state: 'visible' });
    await record('session');
  }), 60_000);

  it('drafts a workflow offline from a sentence and applies it to the catalog', walk('generate', async () => {
    await nav('Generate');
    await page.waitForURL((u) => u.pathname === '/generate');
    await settled('Generate a workflow');
    await page.getByLabel('Task').fill('refund an order: look up the customer, refund billing, send mail');
    await page.getByLabel('Draft offline (no LLM)').check();
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const apply = page.getByRole('button', { name: 'Apply', exact: true });
    await apply.waitFor({ state: 'visible', timeout: 30_000 });
    await record('generate');
    await apply.click();
    await page.waitForURL((u) => /^\/workflows\/[^/]+$/.test(u.pathname), { timeout: 30_000 });
    generatedId = decodeURIComponent(path().split('/')[2]);
    expect(await rest('GET', `/api/v1/workflows/${generatedId}`)).toMatchObject({ source: 'generated', version: 1 });
  }), 60_000);

  it('changes the applied draft in the builder, saves a new version and diffs the versions', walk('builder', async () => {
    const before = await rest('GET', `/api/v1/workflows/${generatedId}`);
    const step = before.steps[0].id as string;
    await page.getByRole('link', { name: 'Edit in builder' }).click();
    await page.waitForURL((u) => u.pathname === `/workflows/${generatedId}/edit`);
    await settled(`Edit ${before.name}`);
    await page.locator(`main .react-flow__node[data-id="${step}"]`).waitFor({ state: 'visible' });
    await page.getByLabel('Selected step').selectOption(step);
    await page.getByRole('heading', { name: `Step ${step}` }).waitFor({ state: 'visible' });
    await page.getByLabel('Timeout (ms)').fill('4321');
    await page.getByText('Valid: ready to save.').waitFor({ state: 'visible' });
    await record('builder');
    await page.getByRole('button', { name: 'Save as new version' }).click();
    await page.getByText('Saved as version 2').waitFor({ state: 'visible' });
    const after = await rest('GET', `/api/v1/workflows/${generatedId}`);
    expect(after).toMatchObject({ version: 2 });
    expect(after.steps[0]).toMatchObject({ id: step, timeoutMs: 4321 });
    // The positions were saved beside the definition, for every step.
    const canvas = await rest('GET', `/api/v1/workflows/${generatedId}/canvas`);
    expect(Object.keys(canvas.nodes).sort()).toEqual(after.steps.map((s: { id: string }) => s.id).sort());

    await page.getByRole('link', { name: 'open the workflow' }).click();
    await page.waitForURL((u) => u.pathname === `/workflows/${generatedId}`);
    await settled(before.name);
    const diff = page.getByRole('table', { name: /Differences between version \d and version \d/ });
    await diff.waitFor({ state: 'visible' });
    await diff.getByText(/4321/).first().waitFor({ state: 'visible' });
    await record('workflow-versions');
  }), 60_000);

  it('shows the template gallery and the tools, MCP servers and agents the system knows', walk('library', async () => {
    await nav('Templates');
    await page.waitForURL((u) => u.pathname === '/templates');
    await settled('Templates');
    await page.locator('main').getByRole('button', { name: /^Instantiate / }).first().waitFor({ state: 'visible' });
    await record('templates');
    await nav('Resources');
    await page.waitForURL((u) => u.pathname === '/resources');
    await settled('Resources');
    // The built-in tools are always there.
    await page.locator('main').getByText('core.transform').first().waitFor({ state: 'visible' });
    await record('resources');
  }), 60_000);

  it("answers another tenant's workflow and run with \"not found\"", walk('other-tenant', async () => {
    const definition = { name: 'Not yours', description: 'stored by another tenant', source: 'user', steps: [{ id: 'a', tool: 'core.transform', parameters: { value: 1 } }] };
    const res = await fetch(`${base}/api/v1/workflows`, { method: 'POST', headers: { authorization: `Bearer ${OTHER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(definition), signal: AbortSignal.timeout(WAIT_MS) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await page.goto(`${base}/workflows/${id}`);
    await page.getByRole('alert').filter({ hasText: /not found/i }).waitFor({ state: 'visible' });
    expect(await page.locator('main').getByText('Not yours').count()).toBe(0);
    await record('not-found');
  }), 30_000);

  it('signs out from the keyboard: the session ends and the console asks for a key again', walk('sign-out', async () => {
    // Tab from the top of the page to the Sign out button (bounded), then Enter.
    await page.evaluate(() => (globalThis as any).document.activeElement?.blur());
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => (globalThis as any).document.activeElement?.textContent?.trim() === 'Sign out');
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/signin');
    await settled('Sign in to Toolpath');
    expect((await context.cookies(base)).find((c) => c.name === 'toolpath_session')).toBeUndefined();
    // Reopening a page does not bring the session back.
    await page.goto(`${base}/runs`);
    await page.waitForURL((u) => u.pathname === '/signin');
  }), 30_000);

  it('did nothing it must not: no uncaught error, no CSP refusal, no request off loopback', () => {
    expect(faults).toEqual([]);
  });

  it('has one h1 and no serious or critical accessibility violation on any page (axe-core)', () => {
    writeFileSync(join(SHOTS, 'axe.json'), JSON.stringify(axeFindings, null, 2));
    expect(Object.keys(axeFindings).length).toBeGreaterThanOrEqual(1);
    expect(Object.entries(h1Counts).filter(([, n]) => n !== 1)).toEqual([]);
    const bad = Object.entries(axeFindings).flatMap(([p, vs]) => vs.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${p}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(' | ')}\n    ${v.first ?? ''}`));
    expect(bad).toEqual([]);
  });
});
