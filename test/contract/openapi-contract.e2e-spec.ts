/**
 * The OpenAPI document is the contract: schemathesis (every check, every operation, a fixed seed
 * and a bounded number of examples) runs against the whole system — the five apps from dist on
 * the real NATS, Redis and FerretDB — with the upstream LLM served by the project's fake OpenAI
 * server and one MCP server (the MCP test fixture over stdio). It must find no failure.
 *
 * Rules a JSON Schema cannot state are listed, with why, in schemathesis.toml beside this file.
 * Reproduce by hand: run the system (`npm start`) and
 *   bash test/contract/schemathesis.sh run http://127.0.0.1:3000/docs-json -H "Authorization: Bearer <key>" --checks all
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectTestNats,
  createTestEventsStream,
  dropTestResources,
  isolatedEnv,
  repoRoot,
  startFakeOpenAiServer,
  startService,
  testNames,
  type FakeOpenAiServer,
  type ServiceProcess,
} from '@toolpath/testing';

const names = testNames('contract');
const API_KEY = 'contract-key-0123456789abcdef';
/** Examples per operation and the seed: enough to reach every documented constraint, reproducible. */
const MAX_EXAMPLES = Number(process.env.CONTRACT_MAX_EXAMPLES ?? 40);
const SEED = Number(process.env.CONTRACT_SEED ?? 1);
/** schemathesis must finish well inside this (it takes about a minute here). */
const RUN_LIMIT_MS = 8 * 60_000;

/** What the fake LLM answers every request: a one-step draft the generator accepts under any constraints. */
const DRAFT = {
  explanation: 'fetch the page',
  workflow: { name: 'Fetch a page', description: 'Fetches one page', steps: [{ id: 'fetch', tool: 'http.request', parameters: { method: 'GET', url: 'http://127.0.0.1:9/' } }] },
  missingTools: [],
  reusedWorkflowIds: [],
};

let llm: FakeOpenAiServer;
const apps: ServiceProcess[] = [];

beforeAll(async () => {
  const nc = await connectTestNats();
  try {
    await createTestEventsStream(nc, names);
  } finally {
    await nc.close();
  }
  llm = await startFakeOpenAiServer({ fallback: { content: DRAFT } });
  const mcpServers = JSON.stringify([{ name: 'fixture', transport: 'stdio', command: process.execPath, args: [join(repoRoot, 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js')] }]);
  const env = {
    ...isolatedEnv(names),
    TOOLPATH_API_KEYS: `${API_KEY}:contract`,
    OPENAI_BASE_URL: llm.baseURL,
    OPENAI_API_KEY: 'fake-upstream-key',
    OPENAI_MODEL: 'fake-model',
    TOOLPATH_MCP_SERVERS: mcpServers,
  };
  for (const app of ['recorder', 'analyzer', 'executor', 'generator'] as const) apps.push(await startService(app, env));
  apps.push(await startService('gateway', env));
  await seedLearning(`http://127.0.0.1:${apps[apps.length - 1].port}`);
}, 240_000);

/**
 * Sessions that recur, sent over REST, and a run of the analyzer: the pattern, suggestion and
 * statistics routes then answer with data (and schemathesis follows links to real pattern ids)
 * instead of only 404s and empty lists.
 */
async function seedLearning(base: string): Promise<void> {
  const tools = ['crm.lookup', 'billing.refund', 'mail.send'];
  const t0 = Date.now() - 600_000;
  const events = Array.from({ length: 12 }, (_, i) =>
    [
      ...tools.map((tool, seq) => ({ kind: 'tool_call', sessionId: `seed-${i}`, seq, tool, parameters: { order: `o-${i}` }, result: { ok: true }, success: true, startedAt: t0 + i * 1000 + seq * 10, durationMs: 5, userId: 'ann' })),
      { kind: 'session_end', sessionId: `seed-${i}`, seq: tools.length, success: true, startedAt: t0 + i * 1000, durationMs: 50, intent: 'refund an order' },
    ],
  ).flat();
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  const sent = await fetch(`${base}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify(events), signal: AbortSignal.timeout(30_000) });
  expect(sent.status).toBe(202);
  // The recorder stores them and the analyzer reads the stream: run it until the pattern is there (bounded).
  for (let attempt = 0; attempt < 20; attempt++) {
    await fetch(`${base}/api/v1/analyzer/runs`, { method: 'POST', headers, body: JSON.stringify({ waitMs: 30_000 }), signal: AbortSignal.timeout(60_000) });
    const patterns = (await (await fetch(`${base}/api/v1/patterns`, { headers, signal: AbortSignal.timeout(10_000) })).json()) as { items?: unknown[] };
    if ((patterns.items?.length ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('no pattern was learned from the seeded sessions');
}

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await llm?.close();
  await dropTestResources(names);
}, 60_000);

/** Runs schemathesis to its end (bounded), its output kept for the failure message. */
function schemathesis(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Run where its cache and reports may go (a temporary directory), with the config from here.
    const cli = [join(__dirname, 'schemathesis.sh'), '--config-file', join(__dirname, 'schemathesis.toml'), ...args];
    const proc = spawn('bash', cli, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      output += b.toString();
      if (output.length > 400_000) output = output.slice(-200_000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const timer = setTimeout(() => proc.kill('SIGKILL'), RUN_LIMIT_MS);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the OpenAPI document', () => {
  it('is what the API does: schemathesis with every check over every operation finds no failure', async () => {
    const gateway = apps[apps.length - 1];
    const reports = mkdtempSync(join(tmpdir(), 'toolpath-contract-'));
    const run = await schemathesis(reports, [
      'run',
      `http://127.0.0.1:${gateway.port}/docs-json`,
      '--header',
      `Authorization: Bearer ${API_KEY}`,
      '--checks',
      'all',
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      '--generation-database',
      'none',
      // One worker: Hypothesis' source cache is not safe across threads (an occasional internal error).
      '--workers',
      '1',
      '--request-timeout',
      '20',
      '--no-color',
      '--report',
      'junit',
      '--report-dir',
      reports,
    ]);
    const junit = readdirSync(reports).find((f) => f.endsWith('.xml'));
    const summary = junit ? readFileSync(join(reports, junit), 'utf8').match(/<testsuite [^>]*>/)?.[0] : undefined;
    if (run.code !== 0) throw new Error(`schemathesis exited with ${run.code}\n${summary ?? ''}\n${run.output.slice(-60_000)}`);
    // It ran, and tested operations: an empty or unreachable document is a failure, not a pass.
    const tested = Number(/Tested: (\d+)/.exec(run.output)?.[1] ?? 0);
    expect(tested).toBeGreaterThanOrEqual(40);
    const cases = /(\d+) generated, (\d+) passed/.exec(run.output);
    expect(cases).not.toBeNull();
    expect(Number(cases![2])).toBe(Number(cases![1]));
    expect(run.output).not.toMatch(/\d+ failures?\b/);
  }, RUN_LIMIT_MS + 60_000);
});
