import { join } from 'node:path';
import { eventsSubject } from '@toolpath/contracts';
import { repoRoot, waitFor } from '@toolpath/testing';
import { ExecutorHarness, TENANT, workflow } from './executor-harness';

jest.setTimeout(60_000);

const TEST_MCP_SERVER = join(repoRoot, 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js');
const dec = new TextDecoder();

describe('executor mcp:<server>/<tool> steps (a real stdio MCP server)', () => {
  const h = new ExecutorHarness({
    TOOLPATH_MCP_SERVERS: JSON.stringify([{ name: 'test', transport: 'stdio', command: process.execPath, args: [TEST_MCP_SERVER] }]),
    TOOLPATH_MCP_CALL_TIMEOUT_MS: '5000',
  });
  const events: any[] = [];

  beforeAll(async () => {
    await h.setup();
    h.nc.subscribe(eventsSubject(h.names.subjectPrefix, TENANT), { callback: (_e, msg) => events.push(JSON.parse(dec.decode(msg.data))) });
    await h.startExecutor();
  });
  afterAll(async () => {
    await h.teardown();
  });

  it('runs mcp:test/echo and mcp:test/add as steps, results flowing through templates', async () => {
    const id = await h.startOk({
      definition: workflow([
        { id: 'echo', tool: 'mcp:test/echo', parameters: { text: 'hello {{ input.who }}' } },
        { id: 'add', tool: 'mcp:test/add', dependsOn: ['echo'], parameters: { a: 40, b: 2 } },
        { id: 'show', tool: 'core.transform', dependsOn: ['echo', 'add'], parameters: { value: '{{ steps.echo.result }} = {{ steps.add.result.sum }}' } },
      ]),
      input: { who: 'mcp' },
    });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => [s.id, s.result])).toEqual([
      ['echo', 'hello mcp'],
      ['add', { sum: 42 }],
      ['show', 'hello mcp = 42'],
    ]);
    // Every step is a tool-call event: the MCP tool is learned like any other.
    const stepEvents = await waitFor(() => {
      const mine = events.filter((e) => e.runId === id && e.kind === 'tool_call');
      return mine.length >= 3 ? mine : undefined;
    });
    expect(stepEvents.map((e) => e.tool).sort()).toEqual(['core.transform', 'mcp:test/add', 'mcp:test/echo']);
  });

  it('a server that dies mid-call fails the attempt as retryable; the retry starts it again and succeeds', async () => {
    // Each attempt crashes the server: the retry proves a fresh process was started (else it
    // would fail at once with "closed"), and a later healthy call proves the server came back.
    const crash = await h.startOk({
      definition: workflow([{ id: 'crash', tool: 'mcp:test/crash', parameters: {}, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50 } } }]),
    });
    const crashed = await h.finished(crash);
    expect(crashed.status).toBe('FAILED');
    expect(crashed.steps[0].attempts).toBe(2);
    expect(crashed.steps[0].error).toMatch(/MCP server "test" closed the connection during tool "crash" \(it may have crashed\)/);

    const after = await h.startOk({ definition: workflow([{ id: 'echo', tool: 'mcp:test/echo', parameters: { text: 'back again' } }]) });
    const run = await h.finished(after);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps[0].result).toBe('back again');
  });

  it('a step timeout ends a slow MCP call; a tool error and an unknown server fail without retries', async () => {
    const slow = await h.startOk({ definition: workflow([{ id: 'slow', tool: 'mcp:test/slow', parameters: { ms: 5000 }, timeoutMs: 300 }]) });
    const t0 = Date.now();
    const slowRun = await h.finished(slow);
    expect(slowRun.status).toBe('FAILED');
    expect(Date.now() - t0).toBeLessThan(4000);

    const fail = await h.startOk({ definition: workflow([{ id: 'f', tool: 'mcp:test/fail', parameters: {}, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 10 } } }]) });
    const failRun = await h.finished(fail);
    expect(failRun.status).toBe('FAILED');
    expect(failRun.steps[0].attempts).toBe(1);
    expect(failRun.steps[0].error).toMatch(/the disk is full/);

    const unknown = await h.startOk({ definition: workflow([{ id: 'u', tool: 'mcp:nowhere/echo', parameters: {}, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 10 } } }]) });
    const unknownRun = await h.finished(unknown);
    expect(unknownRun.status).toBe('FAILED');
    expect(unknownRun.steps[0].attempts).toBe(1);
    expect(unknownRun.steps[0].error).toMatch(/unknown MCP server "nowhere".*configured: test/);
  });
});
