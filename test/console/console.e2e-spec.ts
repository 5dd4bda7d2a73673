/**
 * The web console in a real browser against the whole system: the five apps from dist on the real
 * NATS, Redis and FerretDB (isolated names), the gateway serving the built console
 * (apps/console/dist) at `/`, Debian's Chromium driven by playwright-core.
 *
 * Learned data comes the way it does in use: sessions posted as events, the analyzer run. Then a
 * person signs in (a wrong key first), looks at the overview and the process map, promotes a
 * learned pattern, runs a workflow from its page and sees the run complete, and signs out. Every
 * page is saved as a screenshot ($TOOLPATH_DATA_DIR/test-results/console/<page>.png) and checked
 * with axe-core: no violation of impact serious or critical on any page (all findings are written
 * to axe.json beside the screenshots).
 *
 * It builds nothing: `npm test` (scripts/setup.sh) builds the console and scripts/browser.sh
 * installs Chromium (TOOLPATH_CHROMIUM). By hand: `npm run build && npx jest test/console`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { repoRoot, seedRecurringSessions, startWholeSystem, type WholeSystem } from '@toolpath/testing';

const API_KEY = 'console-e2e-key-0123456789abcdef';
const CONSOLE_DIR = join(repoRoot, 'apps', 'console', 'dist');
const CHROMIUM = process.env.TOOLPATH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(process.env.TOOLPATH_DATA_DIR ?? join(repoRoot, '.data'), 'test-results', 'console');
const AXE = require.resolve('axe-core/axe.min.js');
/** Every wait in the browser is bounded by this (navigation, a locator, an answer). */
const WAIT_MS = 15_000;
/** The seeded sessions' tools: the process map and the pattern show them. */
const TOOLS = ['crm.lookup', 'billing.refund', 'mail.send'];

/** A workflow of built-in steps (no served tool needed): one, then two in parallel, then one. */
const GREETING = {
  name: 'Console greeting',
  description: 'Greets someone in four built-in steps',
  source: 'user',
  variables: { type: 'object', required: ['who'], properties: { who: { type: 'string', description: 'whom to greet' } } },
  steps: [
    { id: 'hello', tool: 'core.transform', parameters: { value: 'hello {{ input.who }}' } },
    { id: 'upper', tool: 'core.transform', dependsOn: ['hello'], parameters: { value: { text: '{{ steps.hello.result }}', loud: true } } },
    { id: 'quiet', tool: 'core.transform', dependsOn: ['hello'], parameters: { value: { text: '{{ steps.hello.result }}', loud: false } } },
    { id: 'done', tool: 'core.transform', dependsOn: ['upper', 'quiet'], parameters: { value: 'greeted {{ input.who }}' } },
  ],
};

let system: WholeSystem | undefined;
let base = '';
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let greetingId = '';
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
  const noDraft = { explanation: 'none', workflow: { name: 'x', description: 'x', steps: [] }, missingTools: [], reusedWorkflowIds: [] };
  system = await startWholeSystem({ label: 'console', apiKey: API_KEY, tenantId: 'console', llmFallback: { content: noDraft }, env: { GATEWAY_CONSOLE_DIR: CONSOLE_DIR } });
  base = system.base;
  await seedRecurringSessions(system, { tools: TOOLS, sessionPrefix: 'web', intent: 'refund an order' });
  greetingId = (await rest('POST', '/api/v1/workflows', GREETING)).id;

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

  it('draws the process map of the seeded sessions', walk('process-map', async () => {
    await nav('Process map');
    await page.waitForURL((u) => u.pathname === '/process');
    await settled('Process map');
    // The graph (React Flow) has a node for each seeded tool.
    for (const tool of TOOLS) await page.locator('main .react-flow__node', { hasText: tool }).first().waitFor({ state: 'visible' });
    await record('process-map');
  }), 60_000);

  it('lists the learned pattern, opens it and promotes it to the catalog', walk('promote', async () => {
    await nav('Patterns');
    await page.waitForURL((u) => u.pathname === '/patterns');
    await settled('Patterns');
    const patternLink = page.locator('main a[href^="/patterns/"]').first();
    await patternLink.waitFor({ state: 'visible' });
    await record('patterns');

    await patternLink.click();
    await page.waitForURL((u) => /^\/patterns\/[^/]+$/.test(u.pathname));
    const promote = page.getByRole('button', { name: /promote/i });
    await promote.waitFor({ state: 'visible' });
    await settled(/./);
    // Its learned workflow drawn as a DAG: a node per tool.
    for (const tool of TOOLS) await page.locator('main .react-flow__node', { hasText: tool }).first().waitFor({ state: 'visible' });
    await record('pattern');

    await promote.click();
    const workflowLink = page.locator('main a[href^="/workflows/"]').first();
    await workflowLink.waitFor({ state: 'visible' });
    await workflowLink.click();
    await page.waitForURL((u) => /^\/workflows\/[^/]+$/.test(u.pathname));
    const promotedId = decodeURIComponent(path().split('/')[2]);
    const promoted = await rest('GET', `/api/v1/workflows/${promotedId}`);
    await settled(promoted.name);
    await record('workflow-promoted');
    // The catalog's workflow is the pattern's: its tools, in the catalog.
    expect(promoted.steps.map((s: { tool: string }) => s.tool)).toEqual(expect.arrayContaining(TOOLS));
  }), 60_000);

  it('finds a workflow in the catalog, runs it from its page and sees the run complete', walk('run', async () => {
    await nav('Workflows');
    await page.waitForURL((u) => u.pathname === '/workflows');
    await settled('Workflows');
    const link = page.locator('main').getByRole('link', { name: GREETING.name });
    await link.first().waitFor({ state: 'visible' });
    await record('workflows');

    await link.first().click();
    await page.waitForURL((u) => u.pathname === `/workflows/${greetingId}`);
    await settled(GREETING.name);
    const form = page.getByRole('form', { name: 'Run input' });
    await form.getByLabel(/who/).fill('ada');
    await record('workflow');
    await form.getByRole('button', { name: 'Run' }).click();
    await page.waitForURL((u) => /^\/runs\/[^/]+$/.test(u.pathname));
    const runId = decodeURIComponent(path().split('/')[2]);
    await settled(new RegExp(runId));
    // Live (server-sent events): the run's status, first on the page, reaches "completed".
    await page.locator('main').getByText(/^completed$/i).first().waitFor({ state: 'visible', timeout: 30_000 });
    for (const step of GREETING.steps) await page.locator('main .react-flow__node', { hasText: step.id }).first().waitFor({ state: 'visible' });
    await record('run');
    // What the page says is what the API says.
    expect(await rest('GET', `/api/v1/executions/${runId}`)).toMatchObject({ status: 'COMPLETED', workflowId: greetingId });

    await nav('Runs');
    await page.waitForURL((u) => u.pathname === '/runs');
    await settled('Runs');
    // Runs are listed per workflow: pick this one.
    await page.getByLabel('Workflow', { exact: true }).selectOption(greetingId);
    await page.locator('main').getByRole('link', { name: runId }).waitFor({ state: 'visible' });
    await record('runs');
  }), 90_000);

  it('lists the recorded sessions, finds one by its intent and shows its calls on a timeline', walk('sessions', async () => {
    await nav('Sessions');
    await page.waitForURL((u) => u.pathname === '/sessions');
    await settled('Sessions');
    await page.getByLabel('Search by intent').fill('REFUND');
    const link = page.locator('main a[href^="/sessions/web-"]').first();
    await link.waitFor({ state: 'visible' });
    await record('sessions');
    await link.click();
    await page.waitForURL((u) => /^\/sessions\/web-\d+$/.test(u.pathname));
    await settled('refund an order');
    for (const tool of TOOLS) await page.locator('main').getByText(tool).first().waitFor({ state: 'visible' });
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
    const id = decodeURIComponent(path().split('/')[2]);
    expect(await rest('GET', `/api/v1/workflows/${id}`)).toMatchObject({ source: 'generated' });
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
