import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from '@toolpath/testing';
import { McpGatewayProvider } from '../src/mcp-gateway/mcp-gateway.provider';
import { MCP_TOOL_PROVIDERS, type McpCallContext, type McpToolProvider } from '../src/mcp-server/mcp-tool-provider';
import { gatewayHarness } from './gateway-harness';

/** The project's test MCP server (SDK server classes): echo, add, slow, crash, fail, pid. */
export const TEST_MCP_SERVER = join(__dirname, '..', '..', '..', 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js');

/** The test server over streamable HTTP in a process of its own, so that it can be killed. */
export async function startHttpUpstream(): Promise<{ url: string; proc: ChildProcess; kill: () => Promise<void> }> {
  const proc = spawn(process.execPath, [TEST_MCP_SERVER, '--http'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the HTTP test MCP server did not start: ${out}`)), 10_000);
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`the HTTP test MCP server exited (${code}): ${out}`)));
  });
  return {
    url,
    proc,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

const ctx = gatewayHarness('mcpgw');
const call = ctx.call;
let gateway: McpGatewayProvider;
let web: Awaited<ReturnType<typeof startHttpUpstream>>;
let sessionNo = 0;

/** A fresh MCP session of tenant acme. */
function mcpSession(extra: Partial<McpCallContext> = {}): McpCallContext {
  return { tenantId: 'acme', mcpSessionId: `mcp-${++sessionNo}-${Date.now()}`, ...extra };
}

async function tool(session: McpCallContext, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = await gateway.callTool(session, name, args, { signal: new AbortController().signal });
  if (!result) throw new Error(`${name} is not a gateway tool`);
  return result;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

interface StoredSession {
  sessionId: string;
  intent?: string;
  success?: boolean;
  events: Array<Record<string, unknown> & { kind: string; tool?: string; seq?: number; success: boolean; error?: string }>;
}

/** The session as the recorder stored it, once it has `count` events (bounded wait). */
async function stored(sessionId: string, count: number): Promise<StoredSession> {
  await gateway.flush(10_000);
  return waitFor(
    async () => {
      const r = await call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
      return r.status === 200 && r.body.events.length >= count ? (r.body as StoredSession) : undefined;
    },
    { timeoutMs: 20_000, what: `${count} stored events of session ${sessionId}` },
  );
}

beforeAll(async () => {
  await ctx.connect();
  web = await startHttpUpstream();
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
  await ctx.startService('analyzer', { ANALYZER_SCHEDULE: 'off', ANALYZER_CATALOG_REFRESH_MS: '50' });
  await ctx.startGateway({
    TOOLPATH_MCP_SERVERS: JSON.stringify([
      { name: 'test', transport: 'stdio', command: process.execPath, args: [TEST_MCP_SERVER], env: { TEST_MCP_LABEL: 'gateway' } },
      { name: 'web', transport: 'http', url: web.url, callTimeoutMs: 4000 },
    ]),
    TOOLPATH_MCP_GATEWAY_IDLE_MS: '1500',
  });
  gateway = ctx.app.get(McpGatewayProvider);
}, 90_000);

afterAll(async () => {
  await web?.kill();
  await ctx.teardown();
});

describe('the recording MCP gateway', () => {
  it('is one of the MCP server tool providers', () => {
    const providers = ctx.app.get<McpToolProvider[]>(MCP_TOOL_PROVIDERS);
    expect(providers).toContain(gateway);
  });

  it('offers every registered server tool as <server>__<tool> with its schema and description, and set_intent', async () => {
    const tools = await gateway.listTools(mcpSession());
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(['set_intent', ...['add', 'crash', 'echo', 'fail', 'pid', 'slow'].flatMap((t) => [`test__${t}`, `web__${t}`])].sort());
    expect(tools.find((t) => t.name === 'test__echo')).toMatchObject({
      description: 'Returns its text unchanged',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      _meta: { 'toolpath/server': 'test', 'toolpath/tool': 'echo' },
    });
    expect(tools.find((t) => t.name === 'web__add')).toMatchObject({ outputSchema: { type: 'object', properties: { sum: { type: 'number' } } } });
    for (const t of tools) expect(t.name).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
  });

  it('forwards calls over stdio and HTTP and records them, then the session_end when the MCP session closes', async () => {
    const s = mcpSession();
    expect(text(await tool(s, 'set_intent', { intent: 'sum two numbers and say it' }))).toContain('sum two numbers');
    const added = await tool(s, 'test__add', { a: 2, b: 3 });
    expect(added).toMatchObject({ structuredContent: { sum: 5 }, _meta: { 'toolpath/sessionId': s.mcpSessionId } });
    expect(added.isError).toBeFalsy();
    const echoed = await tool(s, 'web__echo', { text: 'five' });
    expect(text(echoed)).toBe('five');
    gateway.sessionClosed!(s);

    const session = await stored(s.mcpSessionId, 3);
    expect(session).toMatchObject({ intent: 'sum two numbers and say it', success: true });
    const [first, second, end] = session.events;
    expect(first).toMatchObject({
      kind: 'tool_call',
      tool: 'mcp:test/add',
      seq: 0,
      parameters: { a: 2, b: 3 },
      result: { sum: 5 },
      success: true,
      source: 'mcp-gateway',
      intent: 'sum two numbers and say it',
      eventId: added._meta!['toolpath/eventId'],
    });
    expect(first.durationMs).toEqual(expect.any(Number));
    expect(Date.parse(first.startedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(second).toMatchObject({ kind: 'tool_call', tool: 'mcp:web/echo', seq: 1, parameters: { text: 'five' }, result: 'five', success: true });
    expect(end).toMatchObject({ kind: 'session_end', seq: 2, success: true, intent: 'sum two numbers and say it', source: 'mcp-gateway', result: { calls: 2, ended: 'mcp_session_closed' } });
  });

  it('names the session by the conversation id and takes the intent from request metadata', async () => {
    const conversationId = `conv-${Date.now()}`;
    const a = mcpSession({ conversationId, intent: 'greet twice' });
    const b = mcpSession({ conversationId });
    expect((await tool(a, 'test__echo', { text: 'hi' }))._meta).toMatchObject({ 'toolpath/sessionId': conversationId });
    await tool(b, 'web__echo', { text: 'hello' });
    // It ends when the last MCP session feeding the conversation closes (recorded-sessions.spec.ts).
    gateway.sessionClosed!(a);
    gateway.sessionClosed!(b);
    const session = await stored(conversationId, 3);
    expect(session.events.map((e) => [e.kind, e.seq, e.intent])).toEqual([
      ['tool_call', 0, 'greet twice'],
      ['tool_call', 1, 'greet twice'],
      ['session_end', 2, 'greet twice'],
    ]);
  });

  it('ends an idle session, and a later call in it opens <id>~2', async () => {
    const s = mcpSession();
    await tool(s, 'set_intent', { intent: 'wait a while' });
    await tool(s, 'test__echo', { text: 'before' });
    const ended = await stored(s.mcpSessionId, 2);
    expect(ended.events[1]).toMatchObject({ kind: 'session_end', success: true, intent: 'wait a while', result: { ended: 'idle' } });
    const again = await tool(s, 'test__echo', { text: 'after' });
    expect(again._meta).toMatchObject({ 'toolpath/sessionId': `${s.mcpSessionId}~2` });
    gateway.sessionClosed!(s);
    expect((await stored(`${s.mcpSessionId}~2`, 2)).events.map((e) => e.kind)).toEqual(['tool_call', 'session_end']);
  }, 30_000);

  it('answers an upstream error result as it is and records the call as failed', async () => {
    const s = mcpSession();
    const failed = await tool(s, 'test__fail', {});
    expect(failed).toMatchObject({ isError: true });
    expect(text(failed)).toBe('the disk is full');
    const fixed = await tool(s, 'test__echo', { text: 'recovered' });
    expect(fixed.isError).toBeFalsy();
    gateway.sessionClosed!(s);
    const session = await stored(s.mcpSessionId, 3);
    expect(session.events[0]).toMatchObject({ tool: 'mcp:test/fail', success: false, error: 'the disk is full' });
    // fail was never called again with success: the session ends as failed, saying which tool.
    expect(session.events[2]).toMatchObject({ kind: 'session_end', success: false, error: expect.stringContaining('mcp:test/fail failed: the disk is full') });
  });

  it('answers bad input with clear errors and crashes nothing', async () => {
    const s = mcpSession();
    // Arguments the upstream refuses: its error comes back as a tool error, recorded as a failed call.
    const refused = await tool(s, 'test__echo', { text: 5 });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/text/);
    // An unknown tool in a known server's namespace is an MCP tool error naming it (not forwarded, not recorded).
    const unknown = await tool(s, 'test__nosuch', {});
    expect(unknown).toMatchObject({ isError: true, structuredContent: { error: { code: 'unknown_tool', fields: [{ field: 'name' }] } } });
    expect(text(unknown)).toMatch(/MCP server "test" has no tool "nosuch"/);
    // A name in no server's namespace is not the gateway's: the server asks the other providers.
    expect(await gateway.callTool(s, 'suggest_workflows', {}, { signal: new AbortController().signal })).toBeUndefined();
    expect(await gateway.callTool(s, 'nosuch__echo', {}, { signal: new AbortController().signal })).toBeUndefined();
    // set_intent without an intent is a tool error naming the field.
    for (const bad of [{}, { intent: '' }, { intent: 42 }]) {
      const r = await tool(s, 'set_intent', bad);
      expect(r).toMatchObject({ isError: true, structuredContent: { error: { code: 'invalid_arguments', fields: [{ field: 'intent' }] } } });
      expect(text(r)).toMatch(/^invalid arguments for set_intent: intent:/);
    }
    gateway.sessionClosed!(s);
    const session = await stored(s.mcpSessionId, 2);
    expect(session.events[0]).toMatchObject({ tool: 'mcp:test/echo', success: false, parameters: { text: 5 } });
    expect(text(await tool(mcpSession(), 'test__echo', { text: 'still up' }))).toBe('still up');
  });

  it('answers a clear tool error naming the server when the stdio upstream dies mid-call, records it, and starts it again', async () => {
    const s = mcpSession();
    const before = JSON.parse(text(await tool(s, 'test__pid', {}))) as { pid: number };
    const crashed = await tool(s, 'test__crash', {});
    expect(crashed.isError).toBe(true);
    expect(text(crashed)).toMatch(/MCP server "test" closed the connection during tool "crash"/);
    const after = JSON.parse(text(await tool(s, 'test__pid', {}))) as { pid: number };
    expect(after.pid).not.toBe(before.pid);
    gateway.sessionClosed!(s);
    const session = await stored(s.mcpSessionId, 4);
    expect(session.events[1]).toMatchObject({ tool: 'mcp:test/crash', success: false, error: expect.stringMatching(/MCP server "test" closed the connection/) });
    expect(session.events[2]).toMatchObject({ tool: 'mcp:test/pid', success: true });
  }, 30_000);

  it('mines the recorded calls into a pattern named by the tools the executor runs', async () => {
    const steps = ['mcp:test/add', 'mcp:web/add', 'mcp:test/echo'];
    for (let i = 0; i < 4; i++) {
      const s = mcpSession();
      await tool(s, 'set_intent', { intent: 'add twice then announce the sum' });
      const first = await tool(s, 'test__add', { a: i, b: 10 });
      const second = await tool(s, 'web__add', { a: (first.structuredContent as { sum: number }).sum, b: 1 });
      await tool(s, 'test__echo', { text: `the sum is ${(second.structuredContent as { sum: number }).sum}` });
      gateway.sessionClosed!(s);
      await stored(s.mcpSessionId, 4);
    }
    const run = await call('POST', '/api/v1/analyzer/runs', { body: {} });
    expect(run.status).toBe(200);
    expect(run.body.status).toBe('completed');
    const patterns = await call('GET', `/api/v1/patterns?tool=${encodeURIComponent('mcp:web/add')}`);
    expect(patterns.status).toBe(200);
    const mined = patterns.body.items.find((p: { tools: string[] }) => p.tools.join(' ') === steps.join(' '));
    expect(mined).toMatchObject({ successRate: 1 });
    expect(mined.support).toBeGreaterThanOrEqual(4);
    // Its learned workflow runs the same tools by the names the executor's MCP steps take.
    const detail = await call('GET', `/api/v1/patterns/${mined.id}`);
    expect(detail.body.workflow.steps.map((st: { tool: string }) => st.tool)).toEqual(steps);
  }, 60_000);

  it('answers a clear tool error naming the server when the HTTP upstream is killed mid-call, and records it', async () => {
    const s = mcpSession();
    // Connected first, so that the kill breaks the call's own response stream.
    expect(text(await tool(s, 'web__echo', { text: 'up' }))).toBe('up');
    const pending = tool(s, 'web__slow', { ms: 3000 });
    await new Promise((r) => setTimeout(r, 500));
    await web.kill();
    const started = Date.now();
    const killed = await pending;
    expect(killed.isError).toBe(true);
    expect(text(killed)).toMatch(/MCP server "web" closed the connection during tool "slow"/);
    // At once, not at the call timeout (4 s here).
    expect(Date.now() - started).toBeLessThan(2000);
    gateway.sessionClosed!(s);
    const session = await stored(s.mcpSessionId, 3);
    expect(session.events[1]).toMatchObject({ tool: 'mcp:web/slow', success: false, parameters: { ms: 3000 }, error: expect.stringMatching(/MCP server "web"/) });
    expect(session).toMatchObject({ success: false });
    // The server is gone: the next call fails at once, naming it, and the gateway answers the other server still.
    const next = await tool(mcpSession(), 'web__echo', { text: 'x' });
    expect(next.isError).toBe(true);
    expect(text(next)).toMatch(/MCP server "web"/);
    expect(text(await tool(mcpSession(), 'test__echo', { text: 'fine' }))).toBe('fine');
  }, 30_000);
});

describe('the recording MCP gateway through /mcp: the SDK client over streamable HTTP, and toolpath-mcp over stdio', () => {
  async function connect(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(new URL(`${ctx.base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${ctx.keyA}` } } });
    const client = new Client({ name: 'gateway-e2e', version: '1.0.0' });
    await client.connect(transport, { timeout: 10_000 });
    return { client, transport };
  }

  it("lists the upstream tools beside Toolpath's own, forwards and records calls, and ends the session on DELETE", async () => {
    const { client, transport } = await connect();
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['suggest_workflows', 'set_intent', 'test__echo', 'test__add', 'web__echo']));
      expect(await client.callTool({ name: 'set_intent', arguments: { intent: 'add over MCP' } })).toMatchObject({ structuredContent: { intent: 'add over MCP' } });
      const added = (await client.callTool({ name: 'test__add', arguments: { a: 20, b: 22 } })) as CallToolResult;
      expect(added).toMatchObject({ structuredContent: { sum: 42 } });
      const sessionId = added._meta!['toolpath/sessionId'] as string;
      expect(sessionId).toBe(transport.sessionId);
      const crashed = (await client.callTool({ name: 'test__crash', arguments: {} })) as CallToolResult;
      expect(crashed.isError).toBe(true);
      expect(text(crashed)).toMatch(/MCP server "test" closed the connection during tool "crash"/);
      const unknown = (await client.callTool({ name: 'test__nosuch', arguments: {} })) as CallToolResult;
      expect(unknown.isError).toBe(true);
      expect(text(unknown)).toMatch(/has no tool "nosuch"/);
      await transport.terminateSession();

      const session = await stored(sessionId, 3);
      expect(session).toMatchObject({ intent: 'add over MCP', success: false });
      expect(session.events.map((e) => [e.kind, e.tool ?? null, e.success])).toEqual([
        ['tool_call', 'mcp:test/add', true],
        ['tool_call', 'mcp:test/crash', false],
        ['session_end', null, false],
      ]);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('names the recorded session by the conversation id the client sends in _meta', async () => {
    const { client, transport } = await connect();
    const conversationId = `conv-mcp-${Date.now()}`;
    try {
      const echoed = (await client.callTool({ name: 'test__echo', arguments: { text: 'hi' }, _meta: { 'toolpath/conversationId': conversationId } })) as CallToolResult;
      expect(echoed._meta).toMatchObject({ 'toolpath/sessionId': conversationId });
      await transport.terminateSession();
      expect((await stored(conversationId, 2)).events.map((e) => e.kind)).toEqual(['tool_call', 'session_end']);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('forwards and records a call made through toolpath-mcp, the stdio entry for desktop agents', async () => {
    const bin = join(__dirname, '..', '..', '..', 'libs', 'mcp-stdio', 'bin', 'toolpath-mcp.js');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, '--url', `${ctx.base}/mcp`],
      env: { PATH: process.env.PATH ?? '', TOOLPATH_API_KEY: ctx.keyA },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'gateway-e2e-stdio', version: '1.0.0' });
    await client.connect(transport, { timeout: 15_000 });
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['set_intent', 'test__echo']));
      const echoed = (await client.callTool({ name: 'test__echo', arguments: { text: 'from a desktop agent' } })) as CallToolResult;
      expect(text(echoed)).toBe('from a desktop agent');
      const session = await stored(echoed._meta!['toolpath/sessionId'] as string, 1);
      expect(session.events[0]).toMatchObject({ kind: 'tool_call', tool: 'mcp:test/echo', parameters: { text: 'from a desktop agent' }, success: true, source: 'mcp-gateway' });
    } finally {
      await client.close();
    }
  }, 30_000);
});
