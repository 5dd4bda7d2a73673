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
import { repoRoot, seedRecurringSessions, startWholeSystem, type WholeSystem } from '@toolpath/testing';

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

let system: WholeSystem;

beforeAll(async () => {
  const mcpServers = JSON.stringify([{ name: 'fixture', transport: 'stdio', command: process.execPath, args: [join(repoRoot, 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js')] }]);
  system = await startWholeSystem({ label: 'contract', apiKey: API_KEY, tenantId: 'contract', llmFallback: { content: DRAFT }, env: { TOOLPATH_MCP_SERVERS: mcpServers } });
  // Sessions that recur and a run of the analyzer: the pattern, suggestion and statistics routes
  // then answer with data (schemathesis follows links to real pattern ids), not only 404s.
  await seedRecurringSessions(system, { tools: ['crm.lookup', 'billing.refund', 'mail.send'], sessionPrefix: 'seed', intent: 'refund an order' });
}, 240_000);

afterAll(async () => {
  await system?.stop();
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
        const reports = mkdtempSync(join(tmpdir(), 'toolpath-contract-'));
    const run = await schemathesis(reports, [
      'run',
      `${system.base}/docs-json`,
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
