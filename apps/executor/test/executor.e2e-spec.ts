import { toolRegistryBucket, type ExecutionUpdate } from '@toolpath/contracts';
import { waitFor } from '@toolpath/testing';
import { ExecutorHarness, TENANT, delayStep, workflow } from './executor-harness';

jest.setTimeout(60_000);

describe('executor (in-process, over NATS request/reply)', () => {
  const h = new ExecutorHarness();

  beforeAll(async () => {
    await h.setup();
    await h.startExecutor();
    await h.finished(await h.startOk({ definition: workflow([delayStep('w1', 1), delayStep('w2', 1), delayStep('w3', 1)]) }));
  });
  afterAll(async () => {
    await h.teardown();
  });

  it('runs three independent 100 ms core.delay steps in parallel', async () => {
    const id = await h.startOk({ definition: workflow([delayStep('a', 100), delayStep('b', 100), delayStep('c', 100)]) });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => s.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    // Parallelism, structurally: every step started before each of the others ended. Timing
    // goals (wall ≈ 100 ms) are bench/executor.bench.ts's business, not a test's.
    const spans = run.steps.map((s) => ({ id: s.id, start: Date.parse(s.startedAt!), end: Date.parse(s.endedAt!) }));
    for (const x of spans) {
      expect(x.end - x.start).toBeGreaterThanOrEqual(99);
      for (const y of spans) if (x !== y) expect(x.start).toBeLessThan(y.end);
    }
    expect(run.durationMs!).toBeLessThan(1500);
  });

  it('fails a run past its timeoutMs and aborts its running steps', async () => {
    const id = await h.startOk({ timeoutMs: 400, definition: workflow([delayStep('a', 10_000), delayStep('b', 10_000), delayStep('c', 10, { dependsOn: ['a'] })]) });
    const t0 = Date.now();
    const run = await h.finished(id);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/timed out/);
    expect(run.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    // The steps were settled as the run ended: none ends after it.
    for (const s of run.steps) expect(Date.parse(s.endedAt!)).toBeLessThanOrEqual(Date.parse(run.endedAt!));
    const { RunAborts } = await import('../src/runs/run-aborts');
    await waitFor(() => h.apps[0].get(RunAborts).size === 0, { timeoutMs: 2000, what: 'running attempts to be aborted' });
    // The aborted attempts must not overwrite the cancellation afterwards.
    await new Promise((r) => setTimeout(r, 200));
    const again = await h.get(id);
    expect(again.ok && again.value.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    // The durable record agrees (the final write is queued only after the steps were settled).
    const { ExecutionRepository } = await import('../src/runs/execution.repository');
    const row = await waitFor(() => h.apps[0].get(ExecutionRepository).get(TENANT, id).then((d) => (d?.status === 'FAILED' ? d : undefined)), {
      what: 'the final Mongo row',
    });
    expect(row.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect(row.error).toMatch(/timed out/);
  });

  it('passes results along dependencies through templates', async () => {
    const id = await h.startOk({
      input: { who: 'world' },
      definition: workflow([
        { id: 'a', tool: 'core.transform', parameters: { value: { greeting: 'hello {{ input.who }}', items: [1, 2, 3] } } },
        { id: 'b', tool: 'core.transform', dependsOn: ['a'], parameters: { value: { text: '{{ steps.a.result.greeting }}!', second: '{{ steps.a.result.items[1] }}' } } },
      ]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps[1].result).toEqual({ text: 'hello world!', second: 2 });
  });

  it('completes a run in its last step without touching its input: numbers kept to the last digit', async () => {
    // Numbers a re-encoding with fewer significant digits would change, and a large value: the
    // step that completes the run rewrites only the meta's status and end, as text.
    const input = { sum: 0.30000000000000004, third: 1 / 3, big: 9007199254740991, text: 'x'.repeat(50_000) };
    const id = await h.startOk({
      input,
      definition: workflow([
        { id: 'a', tool: 'core.transform', parameters: { value: '{{ input.sum }}' } },
        { id: 'b', tool: 'core.transform', parameters: { value: '{{ input.third }}' } },
      ]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => s.result)).toEqual([input.sum, input.third]);
    expect(run.input).toEqual(input);
    const raw = await h.redis.hget(h.key('run', id), 'meta');
    const meta = JSON.parse(raw!);
    expect(meta).toMatchObject({ status: 'COMPLETED', endedAt: run.endedAt, input });
    expect(meta.input.sum).toBe(0.30000000000000004);
  });

  it('completes a run whose stored meta is not in the shape the last step rewrites (left to the scheduler)', async () => {
    const id = await h.startOk({ input: { n: 1 }, definition: workflow([delayStep('a', 300)]) });
    // As written by a version that stored the meta in its natural key order.
    const key = h.key('run', id);
    const stored = JSON.parse((await h.redis.hget(key, 'meta'))!);
    const { status, endedAt, ...rest } = stored;
    await h.redis.hset(key, 'meta', JSON.stringify({ ...rest, status, endedAt }));
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({ n: 1 });
    expect(Date.parse(run.endedAt!)).toBeGreaterThanOrEqual(Date.parse(run.steps[0].endedAt!));
  });

  it('skips a step whose condition is false, and its dependents', async () => {
    const id = await h.startOk({
      input: { go: false },
      definition: workflow([
        { id: 'a', tool: 'core.transform', parameters: { value: 1 }, condition: 'input.go' },
        { id: 'b', tool: 'core.transform', parameters: { value: 2 }, dependsOn: ['a'] },
        { id: 'c', tool: 'core.transform', parameters: { value: 3 } },
      ]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => s.status)).toEqual(['SKIPPED', 'SKIPPED', 'COMPLETED']);
  });

  it('retries a retryable failure with backoff, then succeeds', async () => {
    const seen: number[] = [];
    h.serveTool('flaky.twice', (req) => {
      seen.push(Date.now());
      return req.context.attempt < 3 ? { ok: false, error: { message: 'try again', retryable: true } } : { ok: true, result: { attempt: req.context.attempt } };
    });
    const id = await h.startOk({
      definition: workflow([{ id: 'f', tool: 'flaky.twice', parameters: {}, retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 150 } } }]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps[0].attempts).toBe(3);
    expect(run.steps[0].result).toEqual({ attempt: 3 });
    expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(90);
    expect(seen[2] - seen[1]).toBeGreaterThanOrEqual(140);
  });

  it('does not run a step again when its job lock lapses while the attempt is still running here', async () => {
    const { ExecutorQueues, stepJobId } = await import('../src/runs/executor-queues');
    const { StepWorker } = await import('../src/runs/step.worker');
    const queue = h.apps[0].get(ExecutorQueues).steps;
    const redis = await queue.client;
    const worker = h.apps[0].get(StepWorker).worker;
    const deliveries: string[] = [];
    const onActive = (job: { id?: string }) => deliveries.push(String(job.id));
    worker.on('active', onActive);
    const calls: number[] = [];
    h.serveTool('slow.once', async (req) => {
      calls.push(req.context.attempt);
      const jobId = stepJobId(req.context.runId, req.context.stepId);
      // As if this executor had been too slow to renew the lock: the stalled check hands the job
      // out again (to this same worker) while the first attempt still runs.
      await redis.del(`${queue.toKey(jobId)}:lock`);
      await waitFor(() => deliveries.filter((d) => d === jobId).length >= 2, { timeoutMs: 15_000, what: 'the job to be delivered again' });
      await new Promise((r) => setTimeout(r, 500));
      return { ok: true, result: 'once' };
    });
    try {
      const id = await h.startOk({ definition: workflow([{ id: 's', tool: 'slow.once', parameters: {}, timeoutMs: 30_000 }]) });
      const run = await h.finished(id, 30_000);
      expect(run.status).toBe('COMPLETED');
      expect(run.steps[0]).toMatchObject({ status: 'COMPLETED', attempts: 1, result: 'once' });
      await new Promise((r) => setTimeout(r, 300));
      expect(calls).toEqual([1]);
    } finally {
      worker.off('active', onActive);
    }
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    h.serveTool('broken.forever', () => {
      calls++;
      return { ok: false, error: { message: 'bad input', retryable: false } };
    });
    const id = await h.startOk({
      definition: workflow([{ id: 'x', tool: 'broken.forever', parameters: {}, retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 10 } } }]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('FAILED');
    expect(run.steps[0].attempts).toBe(1);
    expect(run.steps[0].error).toBe('bad input');
    expect(run.error).toContain('step x failed');
    expect(calls).toBe(1);
  });

  it('onFailure continue: dependents skipped, run completes', async () => {
    h.serveTool('fails.continue', () => ({ ok: false, error: { message: 'nope', retryable: false } }));
    // Several times: c may end while a's failure is being handled (skipping b), and whichever
    // closes the last open step must end the run.
    for (let i = 0; i < 10; i++) {
      const id = await h.startOk({
        definition: workflow([
          { id: 'a', tool: 'fails.continue', parameters: {}, onFailure: 'continue' },
          { id: 'b', tool: 'core.transform', parameters: { value: 1 }, dependsOn: ['a'] },
          { id: 'c', tool: 'core.transform', parameters: { value: 2 } },
        ]),
      });
      const run = await h.finished(id, 5000);
      expect(run.status).toBe('COMPLETED');
      expect(run.steps.map((s) => s.status)).toEqual(['FAILED', 'SKIPPED', 'COMPLETED']);
    }
  });

  it('onFailure abort: rest cancelled, run failed, completed steps compensated in reverse order', async () => {
    const undone: string[] = [];
    h.serveTool('undo', (req) => {
      undone.push(String(req.parameters.what));
      return { ok: true, result: null };
    });
    h.serveTool('fails.abort', () => ({ ok: false, error: { message: 'boom', retryable: false } }));
    const id = await h.startOk({
      definition: workflow([
        { id: 'a', tool: 'core.transform', parameters: { value: 'A' }, compensate: { tool: 'undo', parameters: { what: '{{ steps.a.result }}' } } },
        { id: 'b', tool: 'core.transform', parameters: { value: 'B' }, dependsOn: ['a'], compensate: { tool: 'undo', parameters: { what: 'b' } } },
        { id: 'c', tool: 'fails.abort', parameters: {}, dependsOn: ['b'] },
        { id: 'd', tool: 'core.transform', parameters: { value: 'D' }, dependsOn: ['c'] },
      ]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('FAILED');
    expect(run.steps.map((s) => s.status)).toEqual(['COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLED']);
    await waitFor(() => undone.length === 2, { what: 'compensations' });
    expect(undone).toEqual(['b', 'A']);
  });

  it('onFailure abort stops steps still running on other branches instead of waiting for them', async () => {
    h.serveTool('fails.fast', () => ({ ok: false, error: { message: 'broken', retryable: false } }));
    const t0 = Date.now();
    const id = await h.startOk({
      definition: workflow([{ id: 'bad', tool: 'fails.fast', parameters: {} }, delayStep('slow', 10_000), delayStep('after', 1, { dependsOn: ['slow'] })]),
    });
    const run = await h.finished(id);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('step bad failed');
    expect(run.steps.map((s) => s.status)).toEqual(['FAILED', 'CANCELLED', 'CANCELLED']);
    const { RunAborts } = await import('../src/runs/run-aborts');
    await waitFor(() => h.apps[0].get(RunAborts).size === 0, { timeoutMs: 2000, what: 'the slow attempt to be aborted' });
  });

  it('lists a run as soon as it has started, before its row is written', async () => {
    const id = await h.startOk({ definition: workflow([delayStep('a', 1500)]) });
    const listed = await h.list({ limit: 5 });
    expect(listed.ok).toBe(true);
    if (!listed.ok) return;
    expect(listed.value.items[0]?.id).toBe(id);
    expect(listed.value.items[0]?.status).toBe('RUNNING');
    const filtered = await h.list({ limit: 5, status: 'RUNNING' });
    expect(filtered.ok && filtered.value.items.map((r) => r.id)).toContain(id);
    await h.cancel(id);
  });

  it('onFailure fallback: the fallback runs and dependents read its result', async () => {
    h.serveTool('fails.fb', () => ({ ok: false, error: { message: 'primary down', retryable: false } }));
    const id = await h.startOk({
      definition: workflow([
        { id: 'p', tool: 'fails.fb', parameters: {}, onFailure: { fallback: 'f' } },
        { id: 'f', tool: 'core.transform', parameters: { value: { from: 'fallback', why: '{{ steps.p.error }}' } } },
        { id: 'next', tool: 'core.transform', parameters: { value: '{{ steps.p.result.from }}' }, dependsOn: ['p'] },
      ]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => s.status)).toEqual(['FAILED', 'COMPLETED', 'COMPLETED']);
    expect(run.steps[1].result).toEqual({ from: 'fallback', why: 'primary down' });
    expect(run.steps[2].result).toBe('fallback');
  });

  it('times out a step on a hanging provider', async () => {
    h.serveTool('hangs', () => null);
    const id = await h.startOk({ definition: workflow([{ id: 'h', tool: 'hangs', parameters: {}, timeoutMs: 200 }]) });
    const run = await h.finished(id);
    expect(run.status).toBe('FAILED');
    expect(run.steps[0].error).toMatch(/did not answer within|timed out/);
    expect(run.steps[0].durationMs!).toBeGreaterThanOrEqual(190);
    expect(run.steps[0].durationMs!).toBeLessThan(1500);
  });

  it('provider down (registered, nobody serving) retries, then fails clearly; an unknown tool fails at once', async () => {
    const js = h.nc.jetstream();
    const kv = await js.views.kv(toolRegistryBucket(h.names.subjectPrefix), {});
    await kv.put('sleepy.provider', JSON.stringify({ name: 'sleepy.provider', description: 'x', inputSchema: {} }));
    const id = await h.startOk({
      definition: workflow([{ id: 's', tool: 'sleepy.provider', parameters: {}, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50 } } }]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('FAILED');
    expect(run.steps[0].attempts).toBe(3);
    expect(run.steps[0].error).toMatch(/provider down/);

    const unknown = await h.startOk({
      definition: workflow([{ id: 'u', tool: 'no.such.tool', parameters: {}, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50 } } }]),
    });
    const u = await h.finished(unknown);
    expect(u.status).toBe('FAILED');
    expect(u.steps[0].attempts).toBe(1);
    expect(u.steps[0].error).toMatch(/unknown tool "no.such.tool"/);
  });

  it('cancels a running run: CANCELLED and nothing left running', async () => {
    const id = await h.startOk({ definition: workflow([delayStep('a', 5000), delayStep('b', 5000), delayStep('c', 10, { dependsOn: ['a'] })]) });
    await waitFor(async () => {
      const r = await h.get(id);
      return r.ok && r.value.steps.filter((s) => s.status === 'RUNNING').length === 2;
    });
    const t0 = Date.now();
    const c = await h.cancel(id);
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.value.status).toBe('CANCELLED');
    expect(c.value.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    for (const s of c.value.steps) expect(Date.parse(s.endedAt!)).toBeLessThanOrEqual(Date.parse(c.value.endedAt!));
    const app = h.apps[0];
    const { RunAborts } = await import('../src/runs/run-aborts');
    await waitFor(() => app.get(RunAborts).size === 0, { timeoutMs: 2000, what: 'attempts to stop' });
    expect(Date.now() - t0).toBeLessThan(2000);
    const again = await h.get(id);
    expect(again.ok && again.value.status).toBe('CANCELLED');
  });

  it('an idempotency key gives the same run', async () => {
    const def = workflow([delayStep('a', 10)]);
    const first = await h.start({ definition: def, idempotencyKey: 'order-42' });
    const second = await h.start({ definition: def, idempotencyKey: 'order-42' });
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.value.executionId).toBe(first.value.executionId);
    expect(first.value.created).toBe(true);
    expect(second.value.created).toBe(false);
  });

  it('runs a sub-workflow, and refuses nesting past the depth limit', async () => {
    const child = workflow([{ id: 'inner', tool: 'core.transform', parameters: { value: '{{ input.n }}' } }], 'child');
    const id = await h.startOk({ definition: workflow([{ id: 'sub', tool: 'workflow.run', parameters: { definition: child, input: { n: 7 } } }]) });
    const run = await h.finished(id);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('COMPLETED');
    expect((run.steps[0].result as any).results).toEqual({ inner: 7 });

    let nested: unknown = workflow([{ id: 'leaf', tool: 'core.transform', parameters: { value: 1 } }]);
    for (let i = 0; i < 7; i++) nested = workflow([{ id: `l${i}`, tool: 'workflow.run', parameters: { definition: nested } }]);
    const deep = await h.startOk({ definition: nested });
    const d = await h.finished(deep, 30_000);
    expect(d.status).toBe('FAILED');
    const r = await h.start({ definition: child, depth: 6 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('depth_exceeded');
  });

  it('starts every run, a sub-workflow run too, with the defaults its variables declare', async () => {
    const child = {
      ...workflow(
        [
          { id: 'n', tool: 'core.transform', parameters: { value: '{{ input.n }}' } },
          { id: 'mode', tool: 'core.transform', parameters: { value: '{{ input.options.mode }}' } },
          { id: 'given', tool: 'core.transform', parameters: { value: '{{ input.given }}' } },
        ],
        'child with defaults',
      ),
      variables: {
        type: 'object',
        properties: {
          n: { type: 'integer', default: 7 },
          options: { type: 'object', properties: { mode: { type: 'string', default: 'safe' } } },
          given: { type: 'string', default: 'unused' },
        },
      },
    };
    const id = await h.startOk({ definition: workflow([{ id: 'sub', tool: 'workflow.run', parameters: { definition: child, input: { given: 'mine' } } }]) });
    const run = await h.finished(id);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('COMPLETED');
    const sub = run.steps[0].result as { executionId: string; results: Record<string, unknown> };
    expect(sub.results).toEqual({ n: 7, mode: 'safe', given: 'mine' });
    const childRun = await h.get(sub.executionId);
    expect(childRun.ok && childRun.value.input).toEqual({ given: 'mine', n: 7, options: { mode: 'safe' } });
    // A top-level run started without input gets them too.
    const top = await h.finished(await h.startOk({ definition: child }));
    expect(top.status).toBe('COMPLETED');
    expect(top.input).toEqual({ n: 7, options: { mode: 'safe' }, given: 'unused' });
  });

  it('refuses invalid definitions with the reason and stores nothing', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [workflow([{ id: 'a', tool: 'core.transform', parameters: { value: '{{ constructor.constructor("x")() }}' } }]), /constructor|template|not allowed|forbidden/i],
      [JSON.parse('{"name":"w","description":"d","source":"user","steps":[{"id":"a","tool":"core.transform","parameters":{"__proto__":{"x":1}}}]}'), /__proto__|forbidden/i],
      [workflow([delayStep('a', 1, { dependsOn: ['b'] }), delayStep('b', 1, { dependsOn: ['a'] })]), /cycle/i],
      [workflow(Array.from({ length: 10_000 }, (_, i) => delayStep(`s${i}`, 1))), /steps|too many|at most/i],
    ];
    const before = await h.list({ limit: 1000 });
    for (const [definition, reason] of bad) {
      const r = await h.start({ definition });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.status).toBe(422);
        expect(r.error.message).toMatch(reason);
      }
    }
    const after = await h.list({ limit: 1000 });
    expect(after.ok && before.ok && after.value.items.length).toBe(before.ok ? before.value.items.length : -1);
  });

  it('publishes tool_call events, a session_end, and updates', async () => {
    const updates: ExecutionUpdate[] = [];
    const sub = h.nc.subscribe(`${h.names.subjectPrefix}.executions.${TENANT}.>`, {
      callback: (_e, m) => updates.push(JSON.parse(new TextDecoder().decode(m.data)) as ExecutionUpdate),
    });
    const id = await h.startOk({ definition: workflow([{ id: 'one', tool: 'core.transform', parameters: { value: 42 } }], 'events intent') });
    await h.finished(id);
    const events = await waitFor(async () => {
      const seen: any[] = [];
      const jsm = await h.nc.jetstreamManager();
      const info = await jsm.streams.info(h.names.stream);
      for (let seq = 1; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(h.names.stream, { seq }).catch(() => null);
        if (m) seen.push(m.json());
      }
      const mine = seen.filter((e) => e.sessionId === id);
      return mine.length >= 2 ? mine : undefined;
    });
    const call = events.find((e: any) => e.kind === 'tool_call');
    expect(call).toMatchObject({ sessionId: id, runId: id, stepId: 'one', tool: 'core.transform', parameters: { value: 42 }, result: 42, success: true, seq: 0 });
    expect(events.find((e: any) => e.kind === 'session_end')).toMatchObject({ intent: 'events intent', success: true });
    await waitFor(() => updates.some((u) => u.executionId === id && u.kind === 'run' && u.status === 'COMPLETED'));
    expect(updates.some((u) => u.executionId === id && u.kind === 'step' && u.stepId === 'one' && u.status === 'COMPLETED')).toBe(true);
    // The run ends after its last step: its end's time is not earlier than any step update's.
    const mine = updates.filter((u) => u.executionId === id);
    const runEnd = Date.parse(mine.find((u) => u.kind === 'run' && u.status === 'COMPLETED')!.at);
    for (const u of mine.filter((x) => x.kind === 'step')) expect(Date.parse(u.at)).toBeLessThanOrEqual(runEnd);
    const view = await h.get(id);
    expect(view.ok && Date.parse(view.value.endedAt!)).toBe(runEnd);
    sub.unsubscribe();
  });

  it('finalizes an ended run whose finalizer died (its lease ran out), settling a step left RUNNING', async () => {
    const { RunStore } = await import('../src/runs/run-store');
    const { ExecutionRepository } = await import('../src/runs/execution.repository');
    const { newExecutionId } = await import('../src/runs/run-scheduler.service');
    const store = h.apps[0].get(RunStore);
    const repo = h.apps[0].get(ExecutionRepository);
    const id = newExecutionId();
    const at = new Date().toISOString();
    const definition = workflow([delayStep('a', 1), delayStep('b', 1)]) as any;
    const meta = { id, tenantId: TENANT, name: 'orphan', status: 'FAILED' as const, input: {}, createdAt: at, startedAt: at, endedAt: at, depth: 0, deadline: Date.now() + 60_000, error: 'ended elsewhere' };
    const steps = {
      a: { status: 'COMPLETED' as const, attempts: 1, startedAt: at, endedAt: at, durationMs: 1, result: { sleptMs: 1 } },
      b: { status: 'RUNNING' as const, attempts: 1, startedAt: at, endedAt: null, durationMs: null },
    };
    expect(await store.create({ meta, definition, steps }, 1)).toEqual({ created: true });
    // As if a finalizer had claimed it (lease until now + 1 s) and died.
    const leasedUntil = Date.now() + 1000;
    await h.redis.zadd(h.key('outbox'), leasedUntil, id);
    await new Promise((r) => setTimeout(r, 600));
    expect(await repo.get(TENANT, id)).toBeNull();
    const row = await waitFor(() => repo.get(TENANT, id).then((d) => d ?? undefined), { timeoutMs: 5000, what: 'the final row' });
    expect(Date.now()).toBeGreaterThanOrEqual(leasedUntil);
    expect(row.status).toBe('FAILED');
    expect(row.steps.map((st) => st.status)).toEqual(['COMPLETED', 'CANCELLED']);
    expect(await h.redis.zscore(h.key('outbox'), id)).toBeNull();
  });

  it('lists runs newest first with a cursor, and serves a finished run from Mongo', async () => {
    const page1 = await h.list({ limit: 2 });
    expect(page1.ok).toBe(true);
    if (!page1.ok) return;
    expect(page1.value.items).toHaveLength(2);
    expect(page1.value.nextCursor).not.toBeNull();
    const page2 = await h.list({ limit: 2, cursor: page1.value.nextCursor });
    expect(page2.ok && page2.value.items[0].id < page1.value.items[1].id).toBe(true);
    const other = await h.get(page1.value.items[0].id, 'someone-else');
    expect(other.ok).toBe(false);
  });
});

describe('executor request API (a handler outcome never ends a subscription)', () => {
  const h = new ExecutorHarness();

  beforeAll(async () => {
    await h.setup();
  });
  afterAll(async () => {
    await h.teardown();
  });

  it('answers the moment init() has returned, survives failing handlers and oversized replies, and /health names a subscription that ended', async () => {
    const app = await h.startExecutor();
    // No wait: the server knows the subscriptions once init() has returned.
    const first = await h.list();
    expect(first.ok).toBe(true);

    const { RunScheduler } = await import('../src/runs/run-scheduler.service');
    const { ExecutorApi } = await import('../src/api/executor-api.service');
    const { HealthRegistry } = await import('@toolpath/platform');
    const scheduler = app.get(RunScheduler);
    const ref = { tenantId: TENANT, executionId: 'x' };
    jest.spyOn(scheduler, 'get').mockRejectedValueOnce(new Error('redis went away'));
    const rejected = await h.request(h.subjects.get, ref);
    expect(rejected).toMatchObject({ ok: false, error: { status: 503, code: 'unavailable', message: expect.stringContaining('redis went away') } });
    jest.spyOn(scheduler, 'start').mockImplementationOnce(() => {
      throw new Error('thrown, not rejected');
    });
    const thrown = await h.start({ definition: workflow([delayStep('a', 1)]) });
    expect(thrown).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('thrown, not rejected') } });
    // A reply NATS refuses to carry is answered with an error instead of leaving the caller to time out.
    jest.spyOn(scheduler, 'get').mockResolvedValueOnce({ blob: 'x'.repeat(2 * 1024 * 1024) } as never);
    const huge = await h.request(h.subjects.get, ref, 5000);
    expect(huge).toMatchObject({ ok: false, error: { status: 500, code: 'reply_too_large' } });
    const bad = await h.nc.request(h.subjects.get, new TextEncoder().encode('{not json'), { timeout: 5000 });
    expect(JSON.parse(new TextDecoder().decode(bad.data))).toMatchObject({ ok: false, error: { code: 'invalid_json' } });

    // Still serving after all of that.
    const id = await h.startOk({ definition: workflow([delayStep('a', 1)]) });
    expect((await h.finished(id)).status).toBe('COMPLETED');

    const apiCheck = () => app.get(HealthRegistry).entries().find(([name]) => name === 'api')![1]();
    await expect(apiCheck()).resolves.toBeUndefined();
    const getSub = app.get(ExecutorApi)['server'].subscriptions().find((sub) => sub.getSubject() === h.subjects.get)!;
    getSub.unsubscribe();
    await expect(apiCheck()).rejects.toThrow(`not subscribed to ${h.subjects.get}`);
  });
});

describe('executor: a step running on one executor is not run again by another', () => {
  const h = new ExecutorHarness();

  beforeAll(async () => {
    await h.setup();
    await h.startExecutor();
    await h.startExecutor();
  });
  afterAll(async () => {
    await h.teardown();
  });

  it('holds a job that comes back to a second executor while the first, alive, still runs its attempt', async () => {
    const { ExecutorQueues, stepJobId } = await import('../src/runs/executor-queues');
    const { StepWorker } = await import('../src/runs/step.worker');
    const queue = h.apps[0].get(ExecutorQueues).steps;
    const redis = await queue.client;
    const workers = h.apps.map((app) => app.get(StepWorker).worker);
    const deliveries: Array<Array<string>> = workers.map(() => []);
    const listeners = workers.map((w, i) => {
      const onActive = (job: { id?: string }) => deliveries[i].push(String(job.id));
      w.on('active', onActive);
      return onActive;
    });
    const calls: number[] = [];
    let other = -1;
    h.serveTool('slow.fenced', async (req) => {
      calls.push(req.context.attempt);
      const jobId = stepJobId(req.context.runId, req.context.stepId);
      const holder = deliveries.findIndex((d) => d.includes(jobId));
      other = 1 - holder;
      // The holder takes no more jobs, and its lock on this one is gone (as if it had been too
      // slow to renew it): the stalled check hands the job to the other executor.
      await workers[holder].pause(true);
      await redis.del(`${queue.toKey(jobId)}:lock`);
      await waitFor(() => deliveries[other].includes(jobId), { timeoutMs: 15_000, what: 'the job to reach the other executor' });
      // Long enough for the other executor to look again at least once.
      await new Promise((r) => setTimeout(r, 1500));
      return { ok: true, result: 'once' };
    });
    try {
      const id = await h.startOk({ definition: workflow([{ id: 's', tool: 'slow.fenced', parameters: {}, timeoutMs: 30_000 }]) });
      const run = await h.finished(id, 30_000);
      expect(run.status).toBe('COMPLETED');
      expect(run.steps[0]).toMatchObject({ status: 'COMPLETED', attempts: 1, result: 'once' });
      expect(other).toBeGreaterThanOrEqual(0);
      expect(deliveries[other].length).toBeGreaterThanOrEqual(1);
      // The other executor's job ends without calling the tool (it finds the step ended).
      await waitFor(async () => (await queue.getJobCounts('active', 'delayed', 'waiting')).delayed === 0, { timeoutMs: 10_000, what: 'the held job to be done' });
      expect(calls).toEqual([1]);
    } finally {
      workers.forEach((w, i) => w.off('active', listeners[i]));
      for (const w of workers) w.resume();
    }
  });
});
