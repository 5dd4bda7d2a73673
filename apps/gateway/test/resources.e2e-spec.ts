import { join } from 'node:path';
import { ToolRegistry } from '@toolpath/sdk';
import { repoRoot, waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_A, KEY_B } from './gateway-harness';

const TEST_MCP_SERVER = join(repoRoot, 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js');

const ctx = gatewayHarness('gwres');
const call = ctx.call;

beforeAll(async () => {
  await ctx.connect();
  ctx.deleteOnTeardown(`KV_${ctx.names.subjectPrefix}_tools`);
  await ctx.startGateway({
    TOOLPATH_MCP_SERVERS: JSON.stringify([
      { name: 'test', transport: 'stdio', command: process.execPath, args: [TEST_MCP_SERVER], env: { SECRET_TOKEN: 'do-not-show' } },
      { name: 'broken', transport: 'stdio', command: process.execPath, args: ['-e', 'process.stderr.write("missing API token\\n"); process.exit(1)'] },
    ]),
    TOOLPATH_MCP_CONNECT_TIMEOUT_MS: '5000',
  });
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
}, 90_000);

afterAll(() => ctx.teardown());

describe('GET /api/v1/workflows/resources/tools', () => {
  it('lists built-ins, NATS providers from the registry and MCP tools, reporting the server that failed', async () => {
    await new ToolRegistry(ctx.nc, ctx.names.subjectPrefix).announce({
      name: 'github.get_pr',
      description: 'Reads a pull request',
      inputSchema: { type: 'object', properties: { repo: { type: 'string' }, pr: { type: 'integer' } }, required: ['repo', 'pr'] },
    });
    const r = await call('GET', '/api/v1/workflows/resources/tools');
    expect(r.status).toBe(200);
    const byName = new Map<string, any>(r.body.items.map((t: any) => [t.name, t]));
    expect(byName.get('http.request')).toMatchObject({ source: 'builtin', inputSchema: { required: ['url'] } });
    expect(byName.get('github.get_pr')).toMatchObject({ source: 'nats', description: 'Reads a pull request', provider: expect.any(Object) });
    expect(byName.get('github.get_pr').expiresAt).toBeUndefined(); // a static registration
    expect(byName.get('mcp:test/echo')).toMatchObject({ source: 'mcp', server: 'test', description: 'Returns its text unchanged', inputSchema: { properties: { text: { type: 'string' } } } });
    expect(byName.get('mcp:test/add')).toMatchObject({ outputSchema: { properties: { sum: { type: 'number' } } } });
    expect(r.body.nextCursor).toBeNull();
    expect(r.body.warnings).toEqual([{ source: 'mcp', server: 'broken', message: expect.stringMatching(/could not be started.*missing API token/) }]);

    const onlyMcp = await call('GET', '/api/v1/workflows/resources/tools?source=mcp');
    expect(onlyMcp.body.items.every((t: any) => t.source === 'mcp')).toBe(true);
    expect(onlyMcp.body.items).toHaveLength(6);
    const bad = await call('GET', '/api/v1/workflows/resources/tools?source=ftp');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('source');
  });
});

describe('GET /api/v1/workflows/resources/tools: registry liveness', () => {
  it('lists a heartbeating provider with expiresAt and drops it once its entry expires', async () => {
    const registry = new ToolRegistry(ctx.nc, ctx.names.subjectPrefix);
    // What serveTool writes on each heartbeat; nobody renews it here, as if the provider died.
    await registry.announce({ name: 'billing.refund', description: 'Refunds a charge', inputSchema: { type: 'object' } }, { ttlMs: 1500 });
    const natsTools = async () => (await call('GET', '/api/v1/workflows/resources/tools?source=nats')).body.items as Array<{ name: string; expiresAt?: string }>;
    const first = (await natsTools()).find((t) => t.name === 'billing.refund');
    expect(first?.expiresAt).toEqual(expect.any(String));
    await waitFor(async () => !(await natsTools()).some((t) => t.name === 'billing.refund'), { timeoutMs: 10_000, what: 'the expired tool to drop out' });
    expect((await registry.describe('billing.refund')).state).toBe('expired');
  });
});

describe('GET /api/v1/workflows/resources/mcps', () => {
  it('shows each configured server with its state, tool count and target, never its env', async () => {
    const r = await call('GET', '/api/v1/workflows/resources/mcps');
    expect(r.status).toBe(200);
    const [test, broken] = r.body.items;
    expect(test).toMatchObject({ name: 'test', transport: 'stdio', state: 'connected', toolCount: 6, lastError: null, target: expect.stringContaining('test-mcp-server.js') });
    expect(broken).toMatchObject({ name: 'broken', state: 'failed', toolCount: null, failures: expect.any(Number), lastError: expect.stringContaining('missing API token') });
    expect(JSON.stringify(r.body)).not.toContain('do-not-show');
    const noProbe = await call('GET', '/api/v1/workflows/resources/mcps?probe=false');
    expect(noProbe.body.items.map((s: any) => s.name)).toEqual(['test', 'broken']);
  });
});

describe('GET /api/v1/workflows/resources/agents', () => {
  it("counts the tenant's agents from its events, and only its own", async () => {
    // Each event a minute apart, so the newest of each agent is known (lastSeenAt).
    let at = Date.now() - 60 * 60_000;
    const seen: Record<string, string> = {};
    const ev = (agentId: string | undefined, tool: string, success = true, tenantKey = KEY_A) => {
      at += 60_000;
      if (agentId && tenantKey === KEY_A) seen[agentId] = new Date(at).toISOString();
      return call('POST', '/api/v1/events', {
        key: tenantKey,
        body: { kind: 'tool_call', sessionId: `s-${agentId}`, tool, success, startedAt: at, durationMs: 5, ...(agentId ? { agentId } : {}) },
      });
    };
    await ev('planner', 'github.get_pr');
    await ev('planner', 'github.get_pr');
    await ev('planner', 'slack.post', false);
    await ev('coder', 'fs.write');
    await ev(undefined, 'fs.read');
    // Another tenant's later event of the same agent is not this tenant's "last seen".
    await ev('planner', 'fs.read', true, KEY_B);
    await ev('intruder', 'fs.read', true, KEY_B);
    const r = await waitFor(
      async () => {
        const res = await call('GET', '/api/v1/workflows/resources/agents');
        return res.status === 200 && res.body.items.length === 2 && res.body.items[0].events === 3 ? res : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(r.body).toEqual({
      items: [
        { agentId: 'planner', events: 3, failed: 1, successRate: 0.667, tools: [{ tool: 'github.get_pr', count: 2 }, { tool: 'slack.post', count: 1 }], lastSeenAt: seen.planner },
        { agentId: 'coder', events: 1, failed: 0, successRate: 1, tools: [{ tool: 'fs.write', count: 1 }], lastSeenAt: seen.coder },
      ],
      nextCursor: null,
    });
    expect((await call('GET', '/api/v1/workflows/resources/agents?days=0')).status).toBe(400);
  });
});

describe('routing', () => {
  it('resources paths are not taken for workflow ids, and workflow ids still work', async () => {
    const created = await call('POST', '/api/v1/workflows', {
      body: { name: 'R', description: 'route check', source: 'user', steps: [{ id: 'a', tool: 'mcp:test/echo', parameters: { text: 'x' } }] },
    });
    expect(created.status).toBe(201);
    expect((await call('GET', `/api/v1/workflows/${created.body.id}`)).body.steps[0].tool).toBe('mcp:test/echo');
    expect((await call('GET', '/api/v1/workflows/resources')).status).toBe(404);
    const docs = await call('GET', '/docs-json', { key: null });
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/workflows/resources/tools', '/api/v1/workflows/resources/agents', '/api/v1/workflows/resources/mcps']),
    );
    expect((await call('GET', '/api/v1/workflows/resources/tools', { key: null })).status).toBe(401);
  });
});
