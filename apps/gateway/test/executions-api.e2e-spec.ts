import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import {
  EXECUTOR_QUEUE_GROUP,
  executionUpdatesSubject,
  executorSubjects,
  type ExecutionUpdate,
  type ExecutionView,
  type ExecutorReply,
} from '@toolpath/contracts';
import { NatsClient } from '@toolpath/platform';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_A, KEY_B } from './gateway-harness';

const codec = JSONCodec<any>();

/**
 * A stand-in for apps/executor: answers the executor's request/reply subjects (queue group
 * `executor`) from an in-memory table with canned replies, and records what it was asked.
 */
class FakeExecutor {
  readonly runs = new Map<string, ExecutionView & { tenantId: string }>();
  readonly starts: any[] = [];
  private readonly idem = new Map<string, string>();
  private subs: Subscription[] = [];
  private seq = 0;
  /** When set, requests are received but never answered (the gateway must time out). */
  silent = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  start(): void {
    const s = executorSubjects(this.prefix);
    this.serve(s.start, (req) => {
      this.starts.push(req);
      if (req.input?.explode) return { ok: false, error: { status: 422, code: 'invalid_definition', message: 'the executor refused it', details: [{ field: 'definition', message: 'no' }] } };
      const key = req.idempotencyKey ? `${req.tenantId}:${req.idempotencyKey}` : undefined;
      if (key && this.idem.has(key)) return { ok: true, value: { executionId: this.idem.get(key), status: 'PENDING', created: false } };
      const id = `ex_${++this.seq}`;
      if (key) this.idem.set(key, id);
      this.runs.set(id, {
        id,
        tenantId: req.tenantId,
        ...(req.workflowId ? { workflowId: req.workflowId, version: req.version } : {}),
        status: 'PENDING',
        input: req.input,
        steps: (req.definition.steps as any[]).map((st) => ({ id: st.id, tool: st.tool, status: 'PENDING', attempts: 0, startedAt: null, endedAt: null, durationMs: null })),
        startedAt: new Date().toISOString(),
        endedAt: null,
        durationMs: null,
        parallelSpeedup: null,
      });
      return { ok: true, value: { executionId: id, status: 'PENDING', created: true } };
    });
    this.serve(s.get, (req) => {
      const run = this.find(req.tenantId, req.executionId);
      return run ? { ok: true, value: this.view(run) } : notFound(req.executionId);
    });
    this.serve(s.list, (req) => {
      const items = [...this.runs.values()].filter((r) => r.tenantId === req.tenantId && (!req.workflowId || r.workflowId === req.workflowId)).map((r) => this.view(r));
      return { ok: true, value: { items, nextCursor: null } };
    });
    this.serve(s.cancel, (req) => {
      const run = this.find(req.tenantId, req.executionId);
      if (!run) return notFound(req.executionId);
      if (run.status === 'COMPLETED') return { ok: false, error: { status: 409, code: 'already_finished', message: `execution "${run.id}" has already finished` } };
      run.status = 'CANCELLED';
      return { ok: true, value: this.view(run) };
    });
  }

  stop(): void {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
  }

  /** Moves a run and publishes the update, as the executor does on every state change. */
  async publish(executionId: string, update: Omit<ExecutionUpdate, 'executionId' | 'tenantId' | 'at'>, tenantId = 'acme'): Promise<void> {
    const run = this.runs.get(executionId)!;
    if (update.kind === 'run') {
      run.status = update.status as ExecutionView['status'];
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(update.status)) {
        run.endedAt = new Date().toISOString();
        run.durationMs = update.durationMs ?? 5;
      }
    } else {
      const step = run.steps.find((st) => st.id === update.stepId)!;
      step.status = update.status;
    }
    this.nc.publish(executionUpdatesSubject(this.prefix, tenantId, executionId), codec.encode({ executionId, tenantId, at: new Date().toISOString(), ...update }));
    await this.nc.flush();
  }

  private find(tenantId: string, id: string) {
    const run = this.runs.get(id);
    return run && run.tenantId === tenantId ? run : undefined;
  }

  private view(run: ExecutionView & { tenantId: string }): ExecutionView {
    const { tenantId: _t, ...rest } = run;
    return JSON.parse(JSON.stringify(rest));
  }

  private serve(subject: string, handle: (req: any) => ExecutorReply<unknown>): void {
    this.subs.push(
      this.nc.subscribe(subject, {
        queue: EXECUTOR_QUEUE_GROUP,
        callback: (_err, msg) => {
          if (this.silent) return;
          msg.respond(codec.encode(handle(codec.decode(msg.data))));
        },
      }),
    );
  }
}

function notFound(id: string): ExecutorReply<never> {
  // As the executor answers it: the issue names `id`, like every other 404 of the API.
  return { ok: false, error: { status: 404, code: 'not_found', message: `no execution "${id}"`, details: [{ field: 'id', message: 'unknown execution' }] } };
}

const ctx = gatewayHarness<{ executor: FakeExecutor }>('gwrun');
const call = ctx.call;

/** Reads server-sent events from a real streaming HTTP response. */
async function openStream(path: string, key = KEY_A) {
  const abort = new AbortController();
  const res = await fetch(`${ctx.base}${path}`, { headers: { authorization: `Bearer ${key}` }, signal: abort.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const events: Array<{ event: string; data: any }> = [];
  const comments: string[] = [];
  const pump = (async () => {
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (block.startsWith(':')) {
            comments.push(block);
            continue;
          }
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          events.push({ event, data: data ? JSON.parse(data) : undefined });
        }
      }
    } catch {
      // aborted by the test
    } finally {
      done = true;
    }
  })();
  return { res, events, comments, isDone: () => done, finished: pump, abort: () => abort.abort() };
}

const updateSubs = () =>
  ((ctx.app.get(NatsClient).nc as any).protocol.subscriptions.all() as Array<{ subject: string }>).filter((s) => s.subject.includes('.executions.')).length;

const definition = (over: Record<string, unknown> = {}) => ({
  name: 'Greet',
  description: 'says hello',
  source: 'user',
  variables: { type: 'object', required: ['who'], properties: { who: { type: 'string' }, times: { type: 'integer' } } },
  steps: [
    { id: 'hello', tool: 'core.transform', parameters: { text: 'hi {{ input.who }}' } },
    { id: 'log', tool: 'log.write', dependsOn: ['hello'], parameters: { line: '{{ steps.hello.result }}' } },
  ],
  ...over,
});

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '400', GATEWAY_SSE_HEARTBEAT_MS: '150', GATEWAY_QUEUES_TENANTS: 'acme' });
  ctx.executor = new FakeExecutor(ctx.nc, ctx.names.subjectPrefix);
  ctx.executor.start();
  await ctx.nc.flush();
}, 60_000);

afterAll(async () => {
  ctx.executor?.stop();
  await ctx.teardown();
});

describe('starting runs', () => {
  it('runs the latest version of a stored workflow: 202, version recorded, idempotencyKey passed through', async () => {
    const wf = (await call('POST', '/api/v1/workflows', { body: definition() })).body;
    await call('PUT', `/api/v1/workflows/${wf.id}`, { body: definition({ description: 'v2' }) });
    const r = await call('POST', `/api/v1/workflows/${wf.id}/executions`, { body: { input: { who: 'ada', times: 2 }, idempotencyKey: 'order-7' } });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ executionId: expect.any(String), status: 'PENDING' });
    const sent = ctx.executor.starts.at(-1);
    expect(sent).toMatchObject({ tenantId: 'acme', workflowId: wf.id, version: 2, input: { who: 'ada', times: 2 }, idempotencyKey: 'order-7' });
    expect(sent.definition).toMatchObject({ id: wf.id, description: 'v2' });
    const again = await call('POST', `/api/v1/workflows/${wf.id}/executions`, { body: { input: { who: 'ada' }, idempotencyKey: 'order-7' } });
    expect(again.body.executionId).toBe(r.body.executionId);

    const runs = await call('GET', `/api/v1/workflows/${wf.id}/executions`);
    expect(runs.status).toBe(200);
    expect(runs.body).toMatchObject({ items: [{ id: r.body.executionId, workflowId: wf.id, version: 2 }], nextCursor: null });
    const got = await call('GET', `/api/v1/executions/${r.body.executionId}`);
    expect(got.body).toMatchObject({ id: r.body.executionId, status: 'PENDING', steps: [{ id: 'hello' }, { id: 'log' }] });
  });

  it('runs a stored workflow without a body when nothing is required, as the OpenAPI document says (requestBody not required)', async () => {
    const wf = (await call('POST', '/api/v1/workflows', { body: definition({ variables: { type: 'object', properties: { who: { type: 'string' } } } }) })).body;
    const r = await call('POST', `/api/v1/workflows/${wf.id}/executions`);
    expect(r.status).toBe(202);
    expect(ctx.executor.starts.at(-1)).toMatchObject({ workflowId: wf.id, input: {} });
    const docs = await call('GET', '/docs-json', { key: null });
    expect(docs.body.paths['/api/v1/workflows/{id}/executions'].post.requestBody.required).toBe(false);
    expect(docs.body.paths['/api/v1/executions'].post.requestBody.required).toBe(true);
  });

  it("checks input against the workflow's variables and names the field, without asking the executor", async () => {
    const wf = (await call('POST', '/api/v1/workflows', { body: definition() })).body;
    const before = ctx.executor.starts.length;
    const missing = await call('POST', `/api/v1/workflows/${wf.id}/executions`, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual([{ field: 'input.who', message: expect.stringMatching(/required/) }]);
    const wrongType = await call('POST', `/api/v1/workflows/${wf.id}/executions`, { body: { input: { who: 'x', times: 1.5 } } });
    expect(wrongType.body.details).toEqual([{ field: 'input.times', message: 'must be integer' }]);
    const proto = await call('POST', `/api/v1/workflows/${wf.id}/executions`, { raw: '{"input":{"who":"x","__proto__":{"admin":true}}}' });
    expect(proto.status).toBe(400);
    expect(proto.body.details[0].field).toBe('input.__proto__');
    const extra = await call('POST', `/api/v1/workflows/${wf.id}/executions`, { body: { input: { who: 'x' }, nope: 1 } });
    expect(extra.status).toBe(400);
    expect((await call('POST', '/api/v1/workflows/wf_missing/executions', { body: {} })).status).toBe(404);
    expect(ctx.executor.starts.length).toBe(before);
  });

  it('runs an inline definition after validating it', async () => {
    const ok = await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }), idempotencyKey: 'inline-1' } });
    expect(ok.status).toBe(202);
    expect(ctx.executor.starts.at(-1)).toMatchObject({ tenantId: 'acme', idempotencyKey: 'inline-1', input: {} });
    expect(ctx.executor.starts.at(-1).workflowId).toBeUndefined();
    const before = ctx.executor.starts.length;
    const bad = await call('POST', '/api/v1/executions', { body: { definition: definition({ steps: [{ id: 'x', tool: 't', dependsOn: ['x'] }] }) } });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]).toMatchObject({ stepId: 'x', code: 'self_dependency', field: expect.stringMatching(/^definition\.steps\[0\]/) });
    expect((await call('POST', '/api/v1/executions', { body: { input: {} } })).body.details[0].field).toBe('definition');
    expect(ctx.executor.starts.length).toBe(before);
  });

  it("maps the executor's errors to HTTP with the contract body", async () => {
    const refused = await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }), input: { explode: true } } });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ statusCode: 422, error: 'Unprocessable Entity', message: 'the executor refused it', details: [{ field: 'definition', message: 'no' }] });
    const missing = await call('GET', '/api/v1/executions/ex_nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'no execution "ex_nope"', details: [{ field: 'id', message: 'unknown execution' }] });
    const id = (await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } })).body.executionId;
    await ctx.executor.publish(id, { kind: 'run', status: 'COMPLETED' });
    const late = await call('POST', `/api/v1/executions/${id}/cancel`);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ statusCode: 409, error: 'Conflict', details: { code: 'already_finished' } });
    const id2 = (await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } })).body.executionId;
    const cancelled = await call('POST', `/api/v1/executions/${id2}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { id: id2, status: 'CANCELLED' } });
    expect((await call('GET', `/api/v1/executions/${id2}`, { key: KEY_B })).status).toBe(404);
    expect((await call('POST', `/api/v1/executions/${id2}/cancel`, { key: KEY_B })).status).toBe(404);
  });

  it('reports workflow stats from the executor list', async () => {
    const wf = (await call('POST', '/api/v1/workflows', { body: definition() })).body;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call('POST', `/api/v1/workflows/${wf.id}/executions`, { body: { input: { who: `p${i}` } } })).body.executionId);
    await ctx.executor.publish(ids[0], { kind: 'run', status: 'COMPLETED', durationMs: 100 });
    await ctx.executor.publish(ids[1], { kind: 'run', status: 'FAILED', durationMs: 300 });
    const stats = await call('GET', `/api/v1/workflows/${wf.id}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({ workflowId: wf.id, total: 3, byStatus: { COMPLETED: 1, FAILED: 1, PENDING: 1 }, meanDurationMs: 200, successRate: 0.5, truncated: false });
  });

  it('answers 503 naming the executor when none answers, or none answers in time', async () => {
    ctx.executor.silent = true;
    try {
      const started = Date.now();
      const slow = await call('GET', '/api/v1/executions/ex_1');
      expect(slow.status).toBe(503);
      expect(slow.body.message).toMatch(/executor.*no answer within 400 ms/);
      expect(slow.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      ctx.executor.silent = false;
    }
    ctx.executor.stop();
    await ctx.nc.flush();
    try {
      const none = await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } });
      expect(none.status).toBe(503);
      expect(none.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', details: { dependency: 'executor' } });
      expect(none.body.message).toMatch(/no executor is listening/);
      expect(none.headers.get('retry-after')).toBe('1');
      // A read waits a moment for an executor to come back (one restarting or taking over).
      const read = call('GET', '/api/v1/executions/ex_1');
      await new Promise((r) => setTimeout(r, 300));
      ctx.executor.start();
      await ctx.nc.flush();
      expect((await read).status).not.toBe(503);
      ctx.executor.stop();
      await ctx.nc.flush();
      const stillNone = await call('GET', '/api/v1/executions/ex_1');
      expect(stillNone.status).toBe(503);
      expect(stillNone.headers.get('retry-after')).toBe('1');
    } finally {
      ctx.executor.start();
      await ctx.nc.flush();
    }
  });
});

describe('streaming a run (SSE)', () => {
  it('sends the state, each update, then the end, and closes', async () => {
    const id = (await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } })).body.executionId;
    const stream = await openStream(`/api/v1/executions/${id}/stream`);
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await waitFor(() => stream.events.length >= 1, { what: 'first event', timeoutMs: 5000 });
    expect(stream.events[0]).toMatchObject({ event: 'state', data: { id, status: 'PENDING' } });

    await ctx.executor.publish(id, { kind: 'run', status: 'RUNNING' });
    await ctx.executor.publish(id, { kind: 'step', stepId: 'hello', status: 'RUNNING', attempt: 1 });
    // Another run's update on the same connection must not leak into this stream.
    const other = (await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } })).body.executionId;
    await ctx.executor.publish(other, { kind: 'run', status: 'RUNNING' });
    await ctx.executor.publish(id, { kind: 'step', stepId: 'hello', status: 'COMPLETED', attempt: 1, durationMs: 3 });
    await ctx.executor.publish(id, { kind: 'run', status: 'COMPLETED', durationMs: 9 });
    await Promise.race([stream.finished, new Promise((_, rej) => setTimeout(() => rej(new Error('stream did not end')), 5000))]);

    expect(stream.events.map((e) => [e.event, e.data.kind ?? null, e.data.stepId ?? null, e.data.status])).toEqual([
      ['state', null, null, 'PENDING'],
      ['update', 'run', null, 'RUNNING'],
      ['update', 'step', 'hello', 'RUNNING'],
      ['update', 'step', 'hello', 'COMPLETED'],
      ['update', 'run', null, 'COMPLETED'],
      ['end', null, null, 'COMPLETED'],
    ]);
    expect(stream.events.at(-1)!.data).toMatchObject({ id, durationMs: 9 });
    await waitFor(() => updateSubs() === 0, { what: 'subscription released', timeoutMs: 2000 });
  });

  it('ends at once for a finished run, and refuses unknown runs and other tenants with JSON errors', async () => {
    const id = (await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } })).body.executionId;
    await ctx.executor.publish(id, { kind: 'run', status: 'FAILED' });
    const stream = await openStream(`/api/v1/executions/${id}/stream`);
    await stream.finished;
    expect(stream.events.map((e) => e.event)).toEqual(['state', 'end']);

    const unknown = await call('GET', '/api/v1/executions/ex_nope/stream');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404 });
    expect((await call('GET', `/api/v1/executions/${id}/stream`, { key: KEY_B })).status).toBe(404);
    expect((await call('GET', `/api/v1/executions/${id}/stream`, { key: null })).status).toBe(401);
    expect(updateSubs()).toBe(0);
  });

  it('sends heartbeats while idle and unsubscribes when the client goes away', async () => {
    const id = (await call('POST', '/api/v1/executions', { body: { definition: definition({ variables: undefined }) } })).body.executionId;
    const stream = await openStream(`/api/v1/executions/${id}/stream`);
    await waitFor(() => stream.comments.length >= 2, { what: 'two heartbeats', timeoutMs: 5000 });
    expect(stream.comments[0]).toBe(': heartbeat');
    expect(updateSubs()).toBe(1);
    stream.abort();
    await stream.finished;
    await waitFor(() => updateSubs() === 0, { what: 'subscription released after disconnect', timeoutMs: 5000 });
  });
});

describe('queue dashboard', () => {
  it('serves the UI with a key, 401 without, and a cookie from ?key= for the UI calls', async () => {
    const page = await call('GET', '/queues', { headers: {} });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.body).toContain('<html');

    const anonymous = await call('GET', '/queues', { key: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect((await call('GET', '/queues', { key: 'wrong-key-0123456789' })).status).toBe(401);
    expect((await call('GET', '/queues', { key: KEY_B })).status).toBe(403);
    expect((await call('GET', '/queues/api/queues', { key: null })).status).toBe(401);

    const login = await call('GET', `/queues?key=${KEY_A}`, { key: null });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/queues');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Path=\/queues/);
    expect(cookie).not.toContain(KEY_A);
    const jar = cookie.split(';')[0];
    const api = await call('GET', '/queues/api/queues', { key: null, headers: { cookie: jar } });
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: any) => q.name).sort()).toEqual(['steps']);
    expect((await call('GET', `/queues?key=nope`, { key: null })).status).toBe(401);
    // ?key= opens /queues only, never the API.
    expect((await call('GET', `/api/v1/workflows?key=${KEY_A}`, { key: null })).status).toBe(401);
  });
});
