/**
 * Toolpath's /mcp as a client we did not write sees it: the MCP Inspector's CLI mode
 * (`@modelcontextprotocol/inspector-cli`, run as its own process) lists the tools, calls a
 * Toolpath tool, and calls an upstream server's tool through the recording gateway with the
 * conversation and the intent in the request's `_meta`; the call is stored as a tool-call event.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_A } from './gateway-harness';

const INSPECTOR = require.resolve('@modelcontextprotocol/inspector-cli/build/index.js');
/** The project's test MCP server (echo, add, …), as the recording gateway's upstream. */
const TEST_MCP_SERVER = join(__dirname, '..', '..', '..', 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js');
const ctx = gatewayHarness('mcpinsp');

/** The Inspector's CLI against the gateway's /mcp with the tenant's key; its JSON answer. */
async function inspector(args: string[]): Promise<{ code: number; json?: any; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [INSPECTOR, `${ctx.base}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${KEY_A}`, ...args], {
      timeout: 30_000,
      // The CLI finds its own package.json by a path it checks against the working directory.
      cwd: dirname(INSPECTOR),
    });
    return { code: 0, json: JSON.parse(stdout), out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  await ctx.connect();
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
  await ctx.startGateway({
    TOOLPATH_MCP_SERVERS: JSON.stringify([{ name: 'test', transport: 'stdio', command: process.execPath, args: [TEST_MCP_SERVER] }]),
    TOOLPATH_MCP_GATEWAY_IDLE_MS: '1000',
  });
}, 90_000);

afterAll(() => ctx.teardown());

describe('the MCP Inspector (CLI mode) against /mcp', () => {
  it('lists Toolpath’s tools and the upstream server’s, namespaced', async () => {
    const listed = await inspector(['--method', 'tools/list']);
    expect(listed.code).toBe(0);
    const names = (listed.json.tools as Array<{ name: string }>).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['suggest_workflows', 'search_workflows', 'run_workflow', 'get_execution', 'set_intent', 'test__echo', 'test__add']));
  }, 60_000);

  it('calls a Toolpath tool, and names the argument it does not take', async () => {
    const found = await inspector(['--method', 'tools/call', '--tool-name', 'search_workflows', '--tool-arg', 'q=refund an order']);
    expect(found.code).toBe(0);
    expect(found.json.isError ?? false).toBe(false);
    const wrong = await inspector(['--method', 'tools/call', '--tool-name', 'search_workflows', '--tool-arg', 'query=refund an order']);
    expect(wrong.json).toMatchObject({ isError: true });
    expect(JSON.stringify(wrong.json.content)).toContain('query');
  }, 60_000);

  it('calls an upstream tool through the gateway; the call and the intent from _meta are recorded', async () => {
    const conversationId = `inspector-${Date.now()}`;
    const echoed = await inspector([
      '--method', 'tools/call', '--tool-name', 'test__echo', '--tool-arg', 'text=hello from the inspector',
      '--tool-metadata', `toolpath/conversationId=${conversationId}`, 'toolpath/intent=greet the inspector',
    ]);
    expect(echoed.code).toBe(0);
    expect(echoed.json.isError ?? false).toBe(false);
    expect(JSON.stringify(echoed.json.content)).toContain('hello from the inspector');
    // The session ends when the Inspector's MCP session closes (or after the idle time): its events are stored.
    const session = await waitFor(
      async () => {
        const r = await ctx.call('GET', `/api/v1/sessions/${conversationId}`);
        return r.status === 200 && r.body.events.some((e: { kind: string }) => e.kind === 'session_end') ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: `the stored session ${conversationId}` },
    );
    expect(session.intent).toBe('greet the inspector');
    expect(session.events.find((e: { kind: string }) => e.kind === 'tool_call')).toMatchObject({ tool: 'mcp:test/echo', parameters: { text: 'hello from the inspector' }, success: true, source: 'mcp-gateway' });
  }, 60_000);

  it('answers an unknown tool with an error, and the gateway keeps serving', async () => {
    const unknown = await inspector(['--method', 'tools/call', '--tool-name', 'no_such_tool']);
    expect(unknown.code !== 0 || unknown.json?.isError === true).toBe(true);
    expect(unknown.out).toMatch(/no_such_tool/);
    expect((await inspector(['--method', 'tools/list'])).code).toBe(0);
  }, 60_000);
});
