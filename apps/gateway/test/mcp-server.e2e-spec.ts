import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Collections } from '@toolpath/contracts';
import { loadConfig } from '@toolpath/platform';
import { waitFor } from '@toolpath/testing';
import { createGatewayApp } from '../src/gateway.app';
import { gatewayConfigSchema } from '../src/gateway.config';
import { gatewayHarness, KEY_A, KEY_B } from './gateway-harness';

/**
 * Toolpath as an MCP server at /mcp, through the official SDK's client over Streamable HTTP,
 * against a gateway with a real analyzer and executor: the tools, a learned workflow run with
 * progress, workflows as tools and resources, tenant isolation, bad input, list_changed, and
 * the session bounds.
 */
const ctx = gatewayHarness<{ refundId: string; userWorkflowId: string }>('mcp_server');

/** A learned workflow (as promotion stores it) of three steps that take a moment each. */
const refundWorkflow = {
  name: 'Refund order',
  description: 'Refund a customer order and tell the customer',
  source: 'learned',
  tags: ['learned', 'pattern-p_refund'],
  variables: { type: 'object', properties: { orderId: { type: 'string' }, amount: { type: 'number' } }, required: ['orderId'] },
  steps: [
    { id: 'lookup', tool: 'core.delay', parameters: { ms: 150 } },
    { id: 'refund', tool: 'core.delay', parameters: { ms: 150 }, dependsOn: ['lookup'] },
    { id: 'notify', tool: 'core.transform', parameters: { value: { order: '{{ input.orderId }}', refunded: true } }, dependsOn: ['refund'] },
  ],
};

async function connect(key = KEY_A): Promise<Client> {
  const client = new Client({ name: 'mcp-server-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${ctx.base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const mcpHeaders = { accept: 'application/json, text/event-stream' };

const clients: Client[] = [];
const open = async (key = KEY_A) => {
  const c = await connect(key);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  await ctx.connect();
  await ctx.startService('analyzer', { ANALYZER_SCHEDULE: 'off', ANALYZER_CATALOG_REFRESH_MS: '50' });
  await ctx.startService('executor');
  // The catalog poll is left at its default (a minute): the changes below must be seen from the writes.
  await ctx.startGateway({ GATEWAY_MCP_RUN_WAIT_MS: '20000' });
  // The pattern the learned workflow was promoted from: its evidence (the analyzer writes these rows).
  await ctx.mongo.db(ctx.names.mongoDb).collection(Collections.patterns).insertOne({ _id: 'acme:p_refund', tenantId: 'acme', id: 'p_refund', support: 42, successRate: 0.95 } as never);
  const created = await ctx.call('POST', '/api/v1/workflows', { body: refundWorkflow });
  expect(created.status).toBe(201);
  ctx.refundId = created.body.id;
  const user = await ctx.call('POST', '/api/v1/workflows', { body: { name: 'Hand written', description: 'not learned', source: 'user', steps: [{ id: 'a', tool: 'core.delay', parameters: { ms: 1 } }] } });
  ctx.userWorkflowId = user.body.id;
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await ctx.teardown();
});

describe('Toolpath as an MCP server (Streamable HTTP)', () => {
  it('refuses a request without an API key, or with an unknown one (401)', async () => {
    for (const key of [null, 'not-a-key-0123456789']) {
      const res = await ctx.call('POST', '/mcp', { key, body: initialize, headers: mcpHeaders });
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/Authorization|API key/);
    }
    await expect(connect('wrong-key-0123456789abcdef')).rejects.toThrow();
  });

  it('lists the four tools and the learned workflow as a tool of its own (variables as schema, evidence in the description)', async () => {
    const client = await open();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['suggest_workflows', 'search_workflows', 'run_workflow', 'get_execution', 'refund_order']));
    expect(names).not.toContain('hand_written');
    const refund = tools.find((t) => t.name === 'refund_order')!;
    expect(refund.inputSchema).toEqual({ type: 'object', properties: refundWorkflow.variables.properties, required: ['orderId'] });
    expect(refund.description).toContain('Refund a customer order');
    expect(refund.description).toContain('learned from 42 sessions, 95% successful');
    expect(refund.description).toContain('core.delay → core.delay → core.transform');
    expect(tools.find((t) => t.name === 'run_workflow')!.inputSchema.required).toEqual(['workflowId']);
  });

  it('searches the catalog and suggests the workflow for an intent, with reasons and its tool name', async () => {
    const client = await open();
    const found = await call(client, 'search_workflows', { q: 'refund' });
    expect(found.isError).toBeFalsy();
    expect((found.structuredContent as any).items).toEqual([expect.objectContaining({ id: ctx.refundId, name: 'Refund order', resource: `toolpath://workflows/${ctx.refundId}` })]);
    const suggested = await call(client, 'suggest_workflows', { intent: 'refund the order of a customer' });
    expect(suggested.isError).toBeFalsy();
    const items = (suggested.structuredContent as any).items;
    const refund = items.find((s: any) => s.workflowId === ctx.refundId);
    expect(refund).toMatchObject({ name: 'Refund order', mcpTool: 'refund_order', tools: ['core.delay', 'core.delay', 'core.transform'] });
    expect(refund.reasons.length).toBeGreaterThan(0);
    expect(JSON.parse(textOf(suggested))).toEqual(suggested.structuredContent);
  });

  it('runs a workflow with run_workflow, reporting progress per finished step, and answers its result', async () => {
    const client = await open();
    const progress: Progress[] = [];
    const result = (await client.callTool({ name: 'run_workflow', arguments: { workflowId: ctx.refundId, input: { orderId: 'o-1', amount: 5 } } }, undefined, {
      onprogress: (p) => progress.push(p),
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const out = result.structuredContent as any;
    expect(out).toMatchObject({ status: 'COMPLETED', finished: true, workflowId: ctx.refundId });
    expect(out.steps.find((s: any) => s.id === 'notify').result).toEqual({ order: 'o-1', refunded: true });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    expect(new Set(progress.map((p) => p.progress)).size).toBe(progress.length);
    expect(progress.at(-1)).toMatchObject({ progress: 3, total: 3 });
    expect(progress.some((p) => /step (lookup|refund|notify) completed/.test(p.message ?? ''))).toBe(true);
  });

  it('runs the workflow through its own tool, and answers the execution id when the wait ends first', async () => {
    const client = await open();
    const direct = await call(client, 'refund_order', { orderId: 'o-2' });
    expect(direct.isError).toBeFalsy();
    expect(direct.structuredContent).toMatchObject({ status: 'COMPLETED', finished: true });
    const started = await call(client, 'run_workflow', { workflowId: ctx.refundId, input: { orderId: 'o-3' }, waitMs: 0 });
    expect(started.isError).toBeFalsy();
    const { executionId, finished } = started.structuredContent as any;
    expect(finished).toBe(false);
    expect(textOf(started)).toContain('get_execution');
    await waitFor(async () => ((await call(client, 'get_execution', { executionId })).structuredContent as any).status === 'COMPLETED', { timeoutMs: 15_000 });
  });

  it('answers bad input with tool errors naming the field, and counts them', async () => {
    const client = await open();
    const unknown = await call(client, 'no_such_tool', {});
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('unknown tool "no_such_tool"');
    const missing = await call(client, 'refund_order', { amount: 'five' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('orderId: is required');
    expect(textOf(missing)).toContain('amount: must be number');
    expect((missing.structuredContent as any).error.fields.map((f: any) => f.field).sort()).toEqual(['amount', 'orderId']);
    const runInput = await call(client, 'run_workflow', { workflowId: ctx.refundId, input: { amount: 1 } });
    expect(textOf(runInput)).toContain('input.orderId');
    const limit = await call(client, 'search_workflows', { limit: 1000, colour: 'red' });
    expect(limit.isError).toBe(true);
    expect(textOf(limit)).toMatch(/limit: /);
    expect(textOf(limit)).toContain('colour');
    const noIntent = await call(client, 'suggest_workflows', {});
    expect(textOf(noIntent)).toContain('intent: give an intent');
    const noRun = await call(client, 'get_execution', { executionId: 'ex_nope' });
    expect(noRun.isError).toBe(true);
    expect((noRun.structuredContent as any).error.code).toBe('not_found');
    // The session is still fine.
    expect((await client.listTools()).tools.length).toBeGreaterThan(4);
    const metrics = await (await fetch(`${ctx.base}/metrics`)).text();
    expect(metrics).toMatch(/toolpath_mcp_bad_input_total\{reason="unknown_tool"\} [1-9]/);
    expect(metrics).toMatch(/toolpath_mcp_bad_input_total\{reason="invalid_arguments"\} [1-9]/);
  });

  it('offers workflows as resources toolpath://workflows/<id>', async () => {
    const client = await open();
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining([`toolpath://workflows/${ctx.refundId}`, `toolpath://workflows/${ctx.userWorkflowId}`]));
    const read = await client.readResource({ uri: `toolpath://workflows/${ctx.refundId}` });
    const content = read.contents[0] as { text: string; mimeType?: string };
    expect(content.mimeType).toBe('application/json');
    expect(JSON.parse(content.text)).toMatchObject({ id: ctx.refundId, name: 'Refund order', version: 1 });
    await expect(client.readResource({ uri: 'toolpath://workflows/wf_nope' })).rejects.toThrow(/not found/);
  });

  it('keeps tenants apart: tools, runs, resources and sessions', async () => {
    const acme = await open(KEY_A);
    const globex = await open(KEY_B);
    expect((await globex.listTools()).tools.map((t) => t.name)).not.toContain('refund_order');
    const run = await call(acme, 'run_workflow', { workflowId: ctx.refundId, input: { orderId: 'o-4' }, waitMs: 0 });
    const { executionId } = run.structuredContent as any;
    const other = await call(globex, 'get_execution', { executionId });
    expect(other.isError).toBe(true);
    expect((other.structuredContent as any).error.code).toBe('not_found');
    const otherRun = await call(globex, 'run_workflow', { workflowId: ctx.refundId, input: { orderId: 'x' } });
    expect((otherRun.structuredContent as any).error.code).toBe('not_found');
    await expect(globex.readResource({ uri: `toolpath://workflows/${ctx.refundId}` })).rejects.toThrow(/not found/);
    expect((await globex.listResources()).resources).toEqual([]);
    const found = await call(globex, 'search_workflows', { q: 'refund' });
    expect((found.structuredContent as any).items).toEqual([]);
    // acme's session id with globex's key is not a session globex has.
    const sessionId = (acme.transport as StreamableHTTPClientTransport).sessionId!;
    const res = await ctx.call('POST', '/mcp', { key: KEY_B, headers: { ...mcpHeaders, 'mcp-session-id': sessionId }, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    expect(res.status).toBe(404);
  });

  it('tells the client when the set of workflow tools changes (tools/list_changed), at once after a write', async () => {
    const client = await open();
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes++;
    });
    await client.listTools();
    const created = await ctx.call('POST', '/api/v1/workflows', { body: { ...refundWorkflow, name: 'Close ticket', tags: ['learned'] } });
    await waitFor(async () => changes >= 1, { timeoutMs: 3000 });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('close_ticket');
    await ctx.call('DELETE', `/api/v1/workflows/${created.body.id}`);
    await waitFor(async () => changes >= 2, { timeoutMs: 3000 });
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('close_ticket');
  });
});

describe('MCP session bounds', () => {
  let app: NestFastifyApplication;
  let base = '';

  beforeAll(async () => {
    const config = loadConfig(gatewayConfigSchema, {
      ...ctx.env,
      TOOLPATH_API_KEYS: `${KEY_A}:acme`,
      GATEWAY_MCP_MAX_SESSIONS: '2',
      GATEWAY_MCP_SESSION_IDLE_MS: '600',
    });
    app = await createGatewayApp(config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
  });

  const openSession = async () => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { ...mcpHeaders, 'content-type': 'application/json', authorization: `Bearer ${KEY_A}` }, body: JSON.stringify(initialize) });
    expect(res.status).toBe(200);
    await res.text();
    return res.headers.get('mcp-session-id')!;
  };
  const ping = async (sessionId: string) => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...mcpHeaders, 'content-type': 'application/json', authorization: `Bearer ${KEY_A}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
    });
    await res.text();
    return res.status;
  };

  it('closes the least recently used session past the bound, and idle sessions; a closed one answers 404', async () => {
    const first = await openSession();
    const second = await openSession();
    expect(await ping(first)).toBe(200);
    const third = await openSession();
    // `second` was the least recently used.
    expect(await ping(second)).toBe(404);
    expect(await ping(first)).toBe(200);
    expect(await ping(third)).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await ping(first)).toBe(404);
    expect(await ping(third)).toBe(404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/toolpath_mcp_sessions_ended_total\{reason="evicted"\} 1/);
    expect(metrics).toMatch(/toolpath_mcp_sessions_ended_total\{reason="idle"\} 2/);
  });

  it('answers 405 naming the methods to a method Streamable HTTP does not use', async () => {
    const res = await fetch(`${base}/mcp`, { method: 'PUT', headers: { authorization: `Bearer ${KEY_A}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, DELETE');
    expect(((await res.json()) as { message: string }).message).toBe('PUT is not allowed on /mcp; it answers GET, POST, DELETE');
  });

  it('answers 400 to a request without a session that is not an initialize', async () => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { ...mcpHeaders, 'content-type': 'application/json', authorization: `Bearer ${KEY_A}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('initialize');
  });
});
