import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { validateWorkflow } from '@toolpath/workflow';
import { mcpConfigShape, parseMcpServers } from './mcp-config';
import { McpToolError } from './mcp-errors';
import { McpServerPool } from './mcp-server-pool';
import { parseMcpToolName } from './mcp-tool-name';
import { z } from 'zod';

export const TEST_MCP_SERVER = join(__dirname, '..', 'test', 'fixtures', 'test-mcp-server.js');

const defaults = { connectTimeoutMs: 10_000, callTimeoutMs: 5_000, toolsTtlMs: 60_000 };
const testServer = (over: Record<string, unknown> = {}) =>
  parseMcpServers(JSON.stringify([{ name: 'test', transport: 'stdio', command: process.execPath, args: [TEST_MCP_SERVER], env: { TEST_MCP_LABEL: 'spec' }, ...over }]));

describe('TOOLPATH_MCP_SERVERS', () => {
  it('parses stdio and http servers with their defaults', () => {
    const servers = parseMcpServers(
      JSON.stringify([
        { name: 'fs', transport: 'stdio', command: 'npx', args: ['-y', 'some-server'] },
        { name: 'remote', transport: 'http', url: 'http://127.0.0.1:9000/mcp', headers: { authorization: 'Bearer x' }, callTimeoutMs: 2000 },
      ]),
    );
    expect(servers).toEqual([
      { name: 'fs', transport: 'stdio', command: 'npx', args: ['-y', 'some-server'], env: {} },
      { name: 'remote', transport: 'http', url: 'http://127.0.0.1:9000/mcp', headers: { authorization: 'Bearer x' }, callTimeoutMs: 2000 },
    ]);
    expect(parseMcpServers(undefined)).toEqual([]);
    expect(parseMcpServers('  ')).toEqual([]);
  });

  it('names the entry and the field of a bad setting', () => {
    expect(() => parseMcpServers('[{')).toThrow(/TOOLPATH_MCP_SERVERS is not JSON/);
    expect(() => parseMcpServers(JSON.stringify([{ name: 'a b', transport: 'stdio', command: 'x' }]))).toThrow(/TOOLPATH_MCP_SERVERS\[0\]\.name/);
    expect(() => parseMcpServers(JSON.stringify([{ name: 'a', transport: 'ws', url: 'x' }]))).toThrow(/TOOLPATH_MCP_SERVERS\[0\]\.transport/);
    expect(() => parseMcpServers(JSON.stringify([{ name: 'a', transport: 'http', url: 'ftp://x' }]))).toThrow(/\[0\]\.url/);
    expect(() =>
      parseMcpServers(
        JSON.stringify([
          { name: 'a', transport: 'stdio', command: 'x' },
          { name: 'a', transport: 'stdio', command: 'y' },
        ]),
      ),
    ).toThrow(/\[1\]\.name: duplicate server name "a"/);
    const shape = z.object(mcpConfigShape);
    expect(shape.safeParse({ TOOLPATH_MCP_SERVERS: '{"not":"a list"}' }).success).toBe(false);
    expect(shape.parse({}).TOOLPATH_MCP_SERVERS).toEqual([]);
  });

  it('reads tool names of the form mcp:<server>/<tool>, which the workflow validator accepts', () => {
    expect(parseMcpToolName('mcp:test/echo')).toEqual({ server: 'test', tool: 'echo' });
    expect(parseMcpToolName('mcp:gh/repos/list')).toEqual({ server: 'gh', tool: 'repos/list' });
    for (const bad of ['mcp:test', 'mcp:/echo', 'mcp:test/', 'test/echo']) expect(parseMcpToolName(bad)).toBeUndefined();
    const result = validateWorkflow({ name: 'm', description: 'd', source: 'user', steps: [{ id: 'a', tool: 'mcp:test/echo', parameters: { text: 'x' } }] });
    expect(result).toMatchObject({ ok: true });
  });
});

describe('a stdio MCP server', () => {
  let pool: McpServerPool;
  afterEach(async () => {
    await pool?.close();
  });

  it('starts only when used, lists its tools (cached) and calls them', async () => {
    pool = new McpServerPool(testServer(), defaults);
    expect(pool.status()[0]).toMatchObject({ name: 'test', state: 'idle', toolCount: null });

    const listing = await pool.listTools();
    expect(listing.errors).toEqual([]);
    expect(listing.tools.map((t) => t.name).sort()).toEqual(['add', 'crash', 'echo', 'fail', 'pid', 'slow']);
    const echo = listing.tools.find((t) => t.name === 'echo')!;
    expect(echo).toMatchObject({ server: 'test', description: 'Returns its text unchanged', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } });
    expect(pool.status()[0]).toMatchObject({ state: 'connected', toolCount: 6, lastError: null });
    const fetchedAt = pool.status()[0].toolsFetchedAt;
    await new Promise((r) => setTimeout(r, 5));
    await pool.listTools();
    expect(pool.status()[0].toolsFetchedAt).toBe(fetchedAt);
    await pool.listTools({ refresh: true });
    expect(pool.status()[0].toolsFetchedAt).not.toBe(fetchedAt);

    expect(await pool.call('mcp:test/echo', { text: 'héllo' })).toBe('héllo');
    expect(await pool.call('mcp:test/add', { a: 2, b: 40 })).toEqual({ sum: 42 });
    expect(await pool.call('mcp:test/pid', {})).toMatchObject({ env: 'spec' });
  });

  it('gives a clear non-retryable error for a tool error, bad arguments, an unknown tool or server', async () => {
    pool = new McpServerPool(testServer(), defaults);
    await expect(pool.call('mcp:test/fail', {})).rejects.toMatchObject({ code: 'tool_error', retryable: false, message: expect.stringContaining('the disk is full') });
    const badArgs: any = await pool.call('mcp:test/add', { a: 'two' }).catch((e) => e);
    expect(badArgs).toBeInstanceOf(McpToolError);
    expect(badArgs.retryable).toBe(false);
    await expect(pool.call('mcp:test/nope', {})).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/nope/) });
    await expect(pool.call('mcp:other/echo', {})).rejects.toMatchObject({ code: 'unknown_server', message: expect.stringContaining('configured: test') });
    await expect(pool.call('mcp:test', {})).rejects.toMatchObject({ code: 'invalid_name' });
  });

  it('times a slow call out by the deadline, and aborts on a signal, keeping the server usable', async () => {
    pool = new McpServerPool(testServer(), defaults);
    await pool.listTools(); // started: the deadline below is the call's own
    const started = Date.now();
    await expect(pool.call('mcp:test/slow', { ms: 5000 }, { deadline: Date.now() + 300 })).rejects.toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await expect(pool.call('mcp:test/slow', { ms: 5000 }, { signal: abort.signal })).rejects.toMatchObject({ code: 'aborted', retryable: false });
    expect(await pool.call('mcp:test/echo', { text: 'still here' })).toBe('still here');
  });

  it('bounds the wait for a server still starting by the call deadline and signal; the start goes on', async () => {
    pool = new McpServerPool(testServer(), defaults);
    await expect(pool.call('mcp:test/echo', { text: 'x' }, { deadline: Date.now() + 1 })).rejects.toMatchObject({ code: 'timeout', retryable: true, message: expect.stringMatching(/still starting/) });
    const abort = new AbortController();
    const aborted = pool.call('mcp:test/echo', { text: 'x' }, { signal: abort.signal });
    abort.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'aborted', retryable: false });
    expect(await pool.call('mcp:test/echo', { text: 'started meanwhile' })).toBe('started meanwhile');
    expect(pool.status()[0]).toMatchObject({ state: 'connected', failures: 0 });
  });

  it('turns a crash mid-call into a clear retryable error, then reconnects to a new process', async () => {
    pool = new McpServerPool(testServer(), defaults);
    const before = (await pool.call('mcp:test/pid', {})) as { pid: number };
    const err: any = await pool.call('mcp:test/crash', {}).catch((e) => e);
    expect(err).toBeInstanceOf(McpToolError);
    expect(err).toMatchObject({ code: 'unavailable', retryable: true });
    expect(err.message).toMatch(/closed the connection during tool "crash" \(it may have crashed\)/);
    expect(err.message).toContain('crashing on purpose');
    expect(pool.status()[0].state).toBe('idle');
    const after = (await pool.call('mcp:test/pid', {})) as { pid: number };
    expect(after.pid).not.toBe(before.pid);
    expect(pool.status()[0].state).toBe('connected');
  });

  it('reports a server that cannot start, backs off, and lists the others', async () => {
    const servers = [
      ...testServer(),
      ...parseMcpServers(JSON.stringify([{ name: 'broken', transport: 'stdio', command: process.execPath, args: ['-e', 'process.stderr.write("no config\\n"); process.exit(2)'] }])),
      ...parseMcpServers(JSON.stringify([{ name: 'missing', transport: 'stdio', command: '/nonexistent/mcp-server' }])),
    ];
    // The backoff reads this clock: how long the listing takes (the test server's start under
    // load) cannot end the backoff before the test looks at it.
    let now = Date.now();
    pool = new McpServerPool(servers, { ...defaults, connectTimeoutMs: 3000, now: () => now });
    const listing = await pool.listTools();
    expect(listing.tools.every((t) => t.server === 'test')).toBe(true);
    expect(listing.errors.map((e) => e.server).sort()).toEqual(['broken', 'missing']);
    expect(listing.errors.find((e) => e.server === 'broken')!.message).toMatch(/could not be started/);
    expect(listing.errors.find((e) => e.server === 'missing')!.message).toMatch(/ENOENT/);
    // Again while it backs off: refused without another start.
    await expect(pool.call('mcp:broken/x', {})).rejects.toMatchObject({ code: 'unavailable', retryable: true, message: expect.stringMatching(/; next attempt in 1000 ms$/) });
    now += 999;
    await expect(pool.call('mcp:broken/x', {})).rejects.toMatchObject({ message: expect.stringMatching(/next attempt in 1 ms/) });
    expect(pool.status().find((s) => s.name === 'broken')).toMatchObject({ state: 'failed', failures: 1 });
    // Once the backoff is over, the next call starts it again; a second failure doubles the wait.
    now += 1;
    await expect(pool.call('mcp:broken/x', {})).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/could not be started/) });
    expect(pool.status().find((s) => s.name === 'broken')).toMatchObject({ state: 'failed', failures: 2 });
    await expect(pool.call('mcp:broken/x', {})).rejects.toMatchObject({ message: expect.stringMatching(/next attempt in 2000 ms/) });
  });

  it('times out a server that never answers initialize', async () => {
    pool = new McpServerPool(parseMcpServers(JSON.stringify([{ name: 'mute', transport: 'stdio', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], connectTimeoutMs: 400 }])), defaults);
    const started = Date.now();
    await expect(pool.call('mcp:mute/x', {})).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/could not be started/) });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('a streamable HTTP MCP server', () => {
  let http: Server;
  let url: string;
  let pool: McpServerPool;
  const seenHeaders: string[] = [];

  beforeAll(async () => {
    // Stateless streamable HTTP: a fresh server and transport per request, as the SDK documents.
    http = createServer((req, res) => {
      seenHeaders.push(String(req.headers['x-api-key'] ?? ''));
      const server = new McpServer({ name: 'http-test', version: '1.0.0' });
      server.registerTool('upper', { description: 'Upper-cases text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text: text.toUpperCase() }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      void server.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    await pool?.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  it('lists and calls its tools with the configured headers, and reports a server that is not there', async () => {
    const down = `http://127.0.0.1:${(http.address() as AddressInfo).port + 1}/mcp`;
    pool = new McpServerPool(
      parseMcpServers(
        JSON.stringify([
          { name: 'web', transport: 'http', url, headers: { 'x-api-key': 'k-123' } },
          { name: 'gone', transport: 'http', url: down, connectTimeoutMs: 2000 },
        ]),
      ),
      defaults,
    );
    const listing = await pool.listTools();
    expect(listing.tools.map((t) => `${t.server}/${t.name}`)).toEqual(['web/upper']);
    expect(listing.errors).toEqual([{ server: 'gone', message: expect.stringMatching(/MCP server "gone" could not be reached/) }]);
    expect(await pool.call('mcp:web/upper', { text: 'shout' })).toBe('SHOUT');
    expect(new Set(seenHeaders)).toEqual(new Set(['k-123']));
  });
});
