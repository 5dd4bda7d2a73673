import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { Collections } from '@toolpath/contracts';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_A, KEY_B } from './gateway-harness';

/**
 * `toolpath-mcp`, the stdio entry for desktop agents, spawned from its built bin
 * (`npx tsc -b libs/mcp-stdio` first) and driven by the SDK's StdioClientTransport: it forwards
 * to the gateway's /mcp, so the tools, progress and list changes are the gateway's.
 */
const BIN = join(__dirname, '../../../libs/mcp-stdio/bin/toolpath-mcp.js');
const ctx = gatewayHarness<{ workflowId: string }>('mcp_stdio');
const clients: Client[] = [];

async function connectStdio(key: string): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, '--url', `${ctx.base}/mcp`],
    env: { PATH: process.env.PATH ?? '', TOOLPATH_API_KEY: key },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => err };
}

/** Runs the bin to its end; its exit code, stdout and stderr. */
function runBin(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`toolpath-mcp ${args.join(' ')} did not exit in time: ${stderr}`));
    }, 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  await ctx.connect();
  await ctx.startService('executor');
  // A short poll: the list change below is a write this gateway does not make.
  await ctx.startGateway({ GATEWAY_MCP_CATALOG_POLL_MS: '100' });
  const created = await ctx.call('POST', '/api/v1/workflows', {
    body: {
      name: 'Archive report',
      description: 'Archive the weekly report',
      source: 'learned',
      variables: { type: 'object', properties: { report: { type: 'string' } }, required: ['report'] },
      steps: [
        { id: 'fetch', tool: 'core.delay', parameters: { ms: 100 } },
        { id: 'store', tool: 'core.transform', parameters: { value: '{{ input.report }}' }, dependsOn: ['fetch'] },
      ],
    },
  });
  expect(created.status).toBe(201);
  ctx.workflowId = created.body.id;
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await ctx.teardown();
});

describe('toolpath-mcp (stdio, forwarding to the gateway)', () => {
  it('prints its usage with --help', async () => {
    const { code, stdout } = await runBin(['--help'], {});
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: toolpath-mcp');
    expect(stdout).toContain('TOOLPATH_API_KEY');
  });

  it('says clearly when the gateway cannot be reached, or the key is missing or refused', async () => {
    const unreachable = await runBin(['--url', 'http://127.0.0.1:39998/mcp', '--connect-timeout-ms', '3000'], { TOOLPATH_API_KEY: KEY_A });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the Toolpath gateway at http://127.0.0.1:39998/mcp (ECONNREFUSED)');
    expect(unreachable.stdout).toBe('');
    const noKey = await runBin(['--url', `${ctx.base}/mcp`], {});
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('TOOLPATH_API_KEY is not set');
    const badKey = await runBin(['--url', `${ctx.base}/mcp`], { TOOLPATH_API_KEY: 'wrong-key-0123456789abcdef' });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('refused the API key (401)');
  });

  it("lists the gateway's tools and resources, calls them, and relays run progress", async () => {
    const { client } = await connectStdio(KEY_A);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['suggest_workflows', 'search_workflows', 'run_workflow', 'get_execution', 'archive_report']));
    const found = (await client.callTool({ name: 'search_workflows', arguments: { q: 'archive' } })) as CallToolResult;
    expect((found.structuredContent as any).items.map((i: any) => i.id)).toEqual([ctx.workflowId]);
    const progress: Progress[] = [];
    const run = (await client.callTool({ name: 'archive_report', arguments: { report: 'week 48' } }, undefined, { onprogress: (p) => progress.push(p) })) as CallToolResult;
    expect(run.isError).toBeFalsy();
    expect(run.structuredContent).toMatchObject({ status: 'COMPLETED', steps: expect.arrayContaining([expect.objectContaining({ id: 'store', result: 'week 48' })]) });
    expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2 });
    const bad = (await client.callTool({ name: 'archive_report', arguments: {} })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(bad.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('report: is required') });
    const resource = await client.readResource({ uri: `toolpath://workflows/${ctx.workflowId}` });
    expect(JSON.parse((resource.contents[0] as { text: string }).text)).toMatchObject({ id: ctx.workflowId });
  });

  it("is the key's tenant, and passes tools/list_changed on (a workflow stored by another gateway instance, seen by the poll)", async () => {
    const { client: globex } = await connectStdio(KEY_B);
    expect((await globex.listTools()).tools.map((t) => t.name)).not.toContain('archive_report');
    let changes = 0;
    globex.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes++;
    });
    const at = new Date();
    const definition = { id: 'wf_elsewhere', name: 'Globex flow', description: '', source: 'learned', steps: [{ id: 'a', tool: 'core.delay', parameters: { ms: 1 } }] };
    await ctx.mongo
      .db(ctx.names.mongoDb)
      .collection(Collections.workflows)
      .insertOne({ _id: 'globex:wf_elsewhere', tenantId: 'globex', id: 'wf_elsewhere', version: 1, definition, tools: ['core.delay'], createdAt: at, updatedAt: at } as never);
    await waitFor(async () => changes >= 1, { timeoutMs: 5000 });
    expect((await globex.listTools()).tools.map((t) => t.name)).toContain('globex_flow');
  });
});
