import { connect, type NatsConnection } from 'nats';
import { TOOL_PROVIDER_QUEUE_GROUP, toolRegistryBucket, toolSubject, type ToolDefinition } from '@toolpath/contracts';
import { connectTestNats, testNames, testUrls, waitFor, type TestNames } from '@toolpath/testing';
import { callTool, serveTool, ToolCallError, ToolError, type ServeToolOptions, type ToolContext, type ToolHandler, type ToolServer } from './serve-tool';
import { ToolRegistry } from './tool-registry';

const def = (name: string, over: Partial<ToolDefinition> = {}): ToolDefinition => ({
  name,
  description: `the ${name} tool`,
  inputSchema: { type: 'object' },
  ...over,
});
const ctx = (over: Partial<ToolContext> = {}) => ({ tenantId: 'acme', runId: 'r1', stepId: 's1', attempt: 1, deadline: Date.now() + 5000, ...over });

async function callError(p: Promise<unknown>): Promise<ToolCallError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ToolCallError);
    return err as ToolCallError;
  }
  throw new Error('expected callTool to throw');
}

async function rawRequest(nc: NatsConnection, subject: string, body: string) {
  const reply = await nc.request(subject, body, { timeout: 3000 });
  return reply.json<{ ok: boolean; result?: unknown; error?: { message: string; retryable: boolean } }>();
}

describe('serveTool / callTool against NATS', () => {
  let nc: NatsConnection;
  let names: TestNames;
  let prefix: string;
  const servers: ToolServer[] = [];
  const extra: NatsConnection[] = [];

  const serve = async <P, R>(c: NatsConnection, d: ToolDefinition, h: ToolHandler<P, R>, o?: ServeToolOptions) => {
    const s = await serveTool(c, d, h, o);
    servers.push(s);
    return s;
  };

  beforeEach(async () => {
    nc = await connectTestNats();
    names = testNames('sdktool');
    prefix = names.subjectPrefix;
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop({ timeoutMs: 100 })));
    await Promise.all(extra.splice(0).map((c) => c.close()));
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`KV_${toolRegistryBucket(prefix)}`).catch(() => undefined);
    await nc.close();
  });

  it('round-trips parameters, context and result, and announces the tool', async () => {
    let seen: { parameters: unknown; context: ToolContext } | undefined;
    const server = await serve(nc, def('math.add', { outputSchema: { type: 'number' } }), (parameters: { a: number; b: number }, context) => {
      seen = { parameters, context };
      return parameters.a + parameters.b;
    }, { prefix });
    expect(server.subject).toBe(toolSubject(prefix, 'math.add'));
    expect(server.queueGroup).toBe(TOOL_PROVIDER_QUEUE_GROUP);

    const context = ctx({ attempt: 2 });
    await expect(callTool(nc, prefix, 'math.add', { a: 2, b: 3 }, context, 3000)).resolves.toBe(5);
    expect(seen?.parameters).toEqual({ a: 2, b: 3 });
    expect(seen?.context).toMatchObject(context);
    expect(seen?.context.signal).toBeInstanceOf(AbortSignal);
    expect(seen?.context.signal.aborted).toBe(false);

    const entry = await new ToolRegistry(nc, prefix).get('math.add');
    expect(entry).toMatchObject({ name: 'math.add', description: 'the math.add tool', outputSchema: { type: 'number' }, provider: { sdk: 'typescript', pid: process.pid } });
    expect(Date.parse(entry?.updatedAt ?? '')).toBeGreaterThan(Date.now() - 10_000);
    expect(server.stats()).toMatchObject({ received: 1, ok: 1, failed: 0 });
  });

  it('shares the load between two providers in the queue group', async () => {
    const nc2 = await connect({ servers: testUrls.nats });
    extra.push(nc2);
    const hits = { a: 0, b: 0 };
    await serve(nc, def('lb.echo'), (p) => (hits.a++, { by: 'a', p }), { prefix });
    await serve(nc2, def('lb.echo'), (p) => (hits.b++, { by: 'b', p }), { prefix, announce: false });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => callTool(nc, prefix, 'lb.echo', { i }, ctx(), 3000)));
    expect(results).toHaveLength(60);
    expect(hits.a + hits.b).toBe(60);
    expect(hits.a).toBeGreaterThan(0);
    expect(hits.b).toBeGreaterThan(0);
  });

  it('answers a malformed request with a non-retryable error and keeps serving', async () => {
    const handler = jest.fn(() => 'ok');
    const server = await serve(nc, def('strict.tool'), handler, { prefix, announce: false });
    const subject = toolSubject(prefix, 'strict.tool');
    for (const body of ['not json', JSON.stringify({ parameters: {} }), JSON.stringify({ parameters: [], context: ctx() }), JSON.stringify({ parameters: {}, context: ctx({ tenantId: 'a.b' }) })]) {
      const reply = await rawRequest(nc, subject, body);
      expect(reply).toEqual({ ok: false, error: { message: expect.stringContaining('invalid tool request'), retryable: false } });
    }
    expect(handler).not.toHaveBeenCalled();
    await expect(callTool(nc, prefix, 'strict.tool', {}, ctx(), 3000)).resolves.toBe('ok');
    expect(server.stats()).toMatchObject({ badRequests: 4, ok: 1 });
  });

  it('maps thrown errors to tool_error with the retryable flag', async () => {
    await serve(nc, def('fail.tool'), (p: { kind: string }) => {
      if (p.kind === 'retry') throw new ToolError('busy, try later', { retryable: true });
      if (p.kind === 'final') throw new ToolError('no such invoice');
      if (p.kind === 'flagged') throw Object.assign(new Error('flagged'), { retryable: true });
      if (p.kind === 'string') throw 'plain string';
      return Promise.reject(new Error('generic failure'));
    }, { prefix, announce: false });
    const call = (kind: string) => callError(callTool(nc, prefix, 'fail.tool', { kind }, ctx(), 3000));

    await expect(call('retry')).resolves.toMatchObject({ code: 'tool_error', retryable: true, message: 'busy, try later' });
    await expect(call('final')).resolves.toMatchObject({ code: 'tool_error', retryable: false, message: 'no such invoice' });
    await expect(call('flagged')).resolves.toMatchObject({ code: 'tool_error', retryable: true });
    await expect(call('string')).resolves.toMatchObject({ code: 'tool_error', retryable: false, message: 'plain string' });
    await expect(call('generic')).resolves.toMatchObject({ code: 'tool_error', retryable: false, message: 'generic failure' });
  });

  it('aborts the handler at the deadline and replies a retryable timeout', async () => {
    let aborted = false;
    await serve(nc, def('slow.tool'), (_p, { signal }) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        setTimeout(() => resolve('too late'), 10_000).unref();
      }), { prefix, announce: false });
    const started = Date.now();
    const err = await callError(callTool(nc, prefix, 'slow.tool', {}, ctx({ deadline: Date.now() + 300 }), 3000));
    expect(err).toMatchObject({ code: 'tool_error', retryable: true, message: expect.stringContaining('deadline') });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(aborted).toBe(true);

    const late = await callError(callTool(nc, prefix, 'slow.tool', {}, ctx({ deadline: Date.now() - 1 }), 3000));
    expect(late).toMatchObject({ code: 'tool_error', retryable: true });
  });

  it('refuses an oversized result and encodes awkward results safely', async () => {
    await serve(nc, def('big.tool'), (p: { kind: string }) => {
      if (p.kind === 'big') return { blob: 'x'.repeat(1_200_000) };
      if (p.kind === 'undefined') return undefined;
      const circ: Record<string, unknown> = { n: 10n };
      circ.self = circ;
      return circ;
    }, { prefix, announce: false });
    await expect(callError(callTool(nc, prefix, 'big.tool', { kind: 'big' }, ctx(), 3000))).resolves.toMatchObject({
      code: 'tool_error',
      retryable: false,
      message: 'result too large',
    });
    await expect(callTool(nc, prefix, 'big.tool', { kind: 'undefined' }, ctx(), 3000)).resolves.toBeNull();
    await expect(callTool(nc, prefix, 'big.tool', { kind: 'circular' }, ctx(), 3000)).resolves.toEqual({ n: '10', self: '[Circular]' });
  });

  it('runs at most `concurrency` handlers at once', async () => {
    let active = 0;
    let peak = 0;
    await serve(nc, def('serial.tool'), async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
      return true;
    }, { prefix, announce: false, concurrency: 2 });
    await Promise.all(Array.from({ length: 10 }, () => callTool(nc, prefix, 'serial.tool', {}, ctx(), 5000)));
    expect(peak).toBe(2);
  });

  it('dedupe: a completed key is answered from the stored result, a concurrent duplicate waits for the first', async () => {
    const effects: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const server = await serve(nc, def('dedupe.charge'), async (p: { amount: number }, c) => {
      effects.push(`${c.tenantId}:${c.idempotencyKey ?? '-'}`);
      if (p.amount === 1) await gate;
      if (p.amount < 0) throw new ToolError('declined', { retryable: true });
      return { charged: p.amount, n: effects.length };
    }, { prefix, announce: false, dedupe: true });
    const key = ctx({ idempotencyKey: 'run-1/charge', attemptKind: 'first' });
    // The first call is still running when its duplicate (a takeover) arrives: the duplicate waits.
    const first = callTool(nc, prefix, 'dedupe.charge', { amount: 1 }, key, 5000);
    await waitFor(() => effects.length === 1);
    const duplicate = callTool(nc, prefix, 'dedupe.charge', { amount: 1 }, { ...key, attempt: 2, attemptKind: 'takeover' }, 5000);
    await waitFor(() => server.stats().received === 2);
    release();
    await expect(first).resolves.toEqual({ charged: 1, n: 1 });
    await expect(duplicate).resolves.toEqual({ charged: 1, n: 1 });
    // Completed: answered again from the stored result.
    await expect(callTool(nc, prefix, 'dedupe.charge', { amount: 1 }, { ...key, attempt: 3, attemptKind: 'retry' }, 5000)).resolves.toEqual({ charged: 1, n: 1 });
    expect(effects).toEqual(['acme:run-1/charge']);
    expect(server.stats()).toMatchObject({ received: 3, ok: 1, deduplicated: 2 });
    // Another key, another tenant, or no key at all: the handler runs.
    await callTool(nc, prefix, 'dedupe.charge', { amount: 2 }, ctx({ idempotencyKey: 'run-2/charge' }), 5000);
    await callTool(nc, prefix, 'dedupe.charge', { amount: 2 }, ctx({ tenantId: 'other', idempotencyKey: 'run-1/charge' }), 5000);
    await callTool(nc, prefix, 'dedupe.charge', { amount: 2 }, ctx(), 5000);
    await callTool(nc, prefix, 'dedupe.charge', { amount: 2 }, ctx(), 5000);
    expect(effects).toEqual(['acme:run-1/charge', 'acme:run-2/charge', 'other:run-1/charge', 'acme:-', 'acme:-']);
    // A failure is not kept: the retry runs the handler again.
    const failing = ctx({ idempotencyKey: 'run-3/charge' });
    await expect(callError(callTool(nc, prefix, 'dedupe.charge', { amount: -1 }, failing, 5000))).resolves.toMatchObject({ retryable: true });
    await expect(callError(callTool(nc, prefix, 'dedupe.charge', { amount: -1 }, { ...failing, attempt: 2, attemptKind: 'retry' }, 5000))).resolves.toMatchObject({ retryable: true });
    expect(effects.filter((e) => e === 'acme:run-3/charge')).toHaveLength(2);
  });

  it('dedupe: off by default; stored results are bounded in time and in count', async () => {
    let plain = 0;
    await serve(nc, def('dedupe.off'), () => ++plain, { prefix, announce: false });
    const k = ctx({ idempotencyKey: 'same' });
    await callTool(nc, prefix, 'dedupe.off', {}, k, 5000);
    await callTool(nc, prefix, 'dedupe.off', {}, k, 5000);
    expect(plain).toBe(2);

    let runs = 0;
    await serve(nc, def('dedupe.bounded'), () => ++runs, { prefix, announce: false, dedupe: { ttlMs: 300, maxEntries: 2 } });
    const call = (key: string) => callTool(nc, prefix, 'dedupe.bounded', {}, ctx({ idempotencyKey: key }), 5000);
    expect(await call('a')).toBe(1);
    expect(await call('a')).toBe(1);
    expect(await call('b')).toBe(2);
    expect(await call('c')).toBe(3); // a third key drops the oldest ('a')
    expect(await call('b')).toBe(2);
    expect(await call('a')).toBe(4);
    await new Promise((r) => setTimeout(r, 400)); // past the TTL every result is gone
    expect(await call('a')).toBe(5);
    await expect(serveTool(nc, def('dedupe.bad'), () => 1, { prefix, announce: false, dedupe: { ttlMs: 0 } })).rejects.toThrow(/invalid dedupe options/);
  });

  it('callTool: no provider, timeout, bad reply, invalid request', async () => {
    await expect(callError(callTool(nc, prefix, 'nobody.home', {}, ctx(), 2000))).resolves.toMatchObject({ code: 'no_provider', retryable: true });

    await serve(nc, def('hang.tool'), () => new Promise(() => undefined), { prefix, announce: false });
    const started = Date.now();
    await expect(callError(callTool(nc, prefix, 'hang.tool', {}, ctx({ deadline: Date.now() + 60_000 }), 250))).resolves.toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);

    const sub = nc.subscribe(toolSubject(prefix, 'rogue.tool'), { callback: (_e, m) => m.respond('{"ok":"yes"}') });
    await expect(callError(callTool(nc, prefix, 'rogue.tool', {}, ctx(), 2000))).resolves.toMatchObject({ code: 'bad_reply', retryable: false });
    sub.unsubscribe();

    await expect(callError(callTool(nc, prefix, 'x', {}, ctx({ tenantId: 'no spaces' }), 2000))).resolves.toMatchObject({ code: 'request_failed', retryable: false });
    await expect(callError(callTool(nc, prefix, 'bad..name', {}, ctx(), 2000))).resolves.toMatchObject({ code: 'request_failed', retryable: false });
  });

  it('stop() drains: in-flight calls finish, later calls find no provider', async () => {
    const server = await serve(nc, def('stop.tool'), async () => {
      await new Promise((r) => setTimeout(r, 200));
      return 'done';
    }, { prefix, announce: false });
    const inFlight = callTool(nc, prefix, 'stop.tool', {}, ctx(), 3000);
    await waitFor(() => server.stats().inFlight === 1);
    await server.stop();
    await expect(inFlight).resolves.toBe('done');
    await expect(callError(callTool(nc, prefix, 'stop.tool', {}, ctx(), 1000))).resolves.toMatchObject({ code: 'no_provider' });
    await server.stop(); // idempotent
  });

  it('stop() gives up on a handler after timeoutMs, aborting it with a retryable error', async () => {
    let signal: AbortSignal | undefined;
    const server = await serve(nc, def('stuck.tool'), (_p, c) => {
      signal = c.signal;
      return new Promise(() => undefined);
    }, { prefix, announce: false });
    const pending = callError(callTool(nc, prefix, 'stuck.tool', {}, ctx({ deadline: Date.now() + 60_000 }), 5000));
    await waitFor(() => server.stats().inFlight === 1);
    const started = Date.now();
    await server.stop({ timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(signal?.aborted).toBe(true);
    await expect(pending).resolves.toMatchObject({ code: 'tool_error', retryable: true, message: expect.stringContaining('provider stopped') });
  });

  it('rejects an invalid definition', async () => {
    await expect(serveTool(nc, def('bad name'), () => 1, { prefix })).rejects.toThrow(/invalid tool definition/);
  });
});
