import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { RUN_QUEUE, STEP_QUEUE, toolSubject, type ToolRequest } from '@toolpath/contracts';
import { serveTool } from '@toolpath/sdk';
import { freePort, startService, waitFor, type ServiceProcess } from '@toolpath/testing';
import { ExecutorHarness, delayStep, workflow } from './executor-harness';

jest.setTimeout(120_000);

/** A fan-out of slow steps joined by one that reads every result. */
const slowRun = (ms: number) =>
  workflow([
    { id: 'a', tool: 'core.transform', parameters: { value: { base: 10 } } },
    delayStep('b', ms, { dependsOn: ['a'] }),
    delayStep('c', ms, { dependsOn: ['a'] }),
    delayStep('d', ms, { dependsOn: ['a'] }),
    {
      id: 'e',
      tool: 'core.transform',
      dependsOn: ['b', 'c', 'd'],
      parameters: { value: { base: '{{ steps.a.result.base }}', slept: '{{ steps.b.status }}-{{ steps.c.status }}-{{ steps.d.status }}' } },
    },
  ]);

function expectRightResults(run: any): void {
  expect(run.status).toBe('COMPLETED');
  expect(run.steps.map((s: any) => s.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
  expect(run.steps[4].result).toEqual({ base: 10, slept: 'COMPLETED-COMPLETED-COMPLETED' });
}

async function stepsProcessed(svc: ServiceProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('toolpath_executor_step_attempts_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function obliterate(redisUrl: string, prefix: string): Promise<void> {
  const u = new URL(redisUrl);
  for (const name of [STEP_QUEUE, RUN_QUEUE]) {
    const q = new Queue(name, { connection: { host: u.hostname, port: Number(u.port) }, prefix: `{${prefix}}` });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
}

describe('executor reliability (real processes)', () => {
  let h: ExecutorHarness;
  const procs: ServiceProcess[] = [];

  beforeEach(async () => {
    h = new ExecutorHarness({ LOG_LEVEL: 'warn' });
    await h.setup();
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill9();
    // An in-process executor cleans the queues, keys and database.
    if (h.env.REDIS_URL.endsWith(':6379')) await h.startExecutor().catch(() => undefined);
    await h.teardown();
  });

  it('kill -9 of the executor mid-run: a second executor completes it with the right results', async () => {
    const a = await startService('executor', h.env);
    procs.push(a);
    const b = await startService('executor', h.env, { readyTimeoutMs: 30_000 });
    procs.push(b);
    const id = await h.startOk({ definition: slowRun(4000) });
    await waitFor(async () => {
      const r = await h.get(id);
      return r.ok && r.value.steps.filter((s) => s.status === 'RUNNING').length === 3;
    });
    await a.kill9();
    const mid = await h.get(id);
    expect(mid.ok && mid.value.steps.filter((s) => s.status === 'RUNNING').length).toBe(3);
    const run = await h.finished(id, 30_000);
    expectRightResults(run);
    expect(await stepsProcessed(b)).toBeGreaterThanOrEqual(3);
  });

  it('kill -9 mid-step: the step is taken over within the bound, with the same idempotency key, as a takeover; with dedupe its side effect happens once', async () => {
    // The shipped lock, stalled-check and heartbeat settings (the harness shortens them).
    const { EXECUTOR_LOCK_DURATION_MS: _lock, EXECUTOR_STALLED_INTERVAL_MS: _stalled, ...env } = h.env;
    const a = await startService('executor', env);
    const b = await startService('executor', env);
    procs.push(a, b);
    // A provider with a side effect, de-duplicated on the step's key; a plain subscriber beside
    // it sees every request the executors send (the provider's handler sees only the first).
    let effects = 0;
    const server = await serveTool(
      h.nc,
      { name: 'chaos.charge', description: 'charges once per step', inputSchema: { type: 'object' } },
      async (p: { amount: number }) => {
        effects++;
        await new Promise((r) => setTimeout(r, 1000));
        return { charged: p.amount, effects };
      },
      { prefix: h.names.subjectPrefix, announce: false, dedupe: true },
    );
    const requests: Array<{ at: number; context: ToolRequest['context'] }> = [];
    const seen = h.nc.subscribe(toolSubject(h.names.subjectPrefix, 'chaos.charge'), {
      callback: (err, msg) => {
        if (!err) requests.push({ at: Date.now(), context: (JSON.parse(new TextDecoder().decode(msg.data)) as ToolRequest).context });
      },
    });
    const redis = new Redis(h.env.REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      await h.nc.flush();
      const id = await h.startOk({ definition: workflow([{ id: 'charge', tool: 'chaos.charge', parameters: { amount: 42 } }]) });
      await waitFor(() => requests.length === 1, { timeoutMs: 10_000, what: 'the first tool request' });
      // Kill the executor that runs the step (its owner id carries its pid).
      const state = JSON.parse((await redis.hget(`{${h.names.queuePrefix}}:run:${id}`, 'step:charge'))!) as { owner: string };
      const owner = [a, b].find((p) => state.owner.includes(`-${p.proc.pid}-`))!;
      expect(owner).toBeDefined();
      const killedAt = Date.now();
      await owner.kill9();
      await waitFor(() => requests.length >= 2, { timeoutMs: 15_000, intervalMs: 20, what: 'the takeover of the step' });
      const takeoverMs = requests[1]!.at - killedAt;
      console.log(`executor kill -9: step taken over in ${takeoverMs} ms (bound 10 s with the shipped settings)`);
      expect(takeoverMs).toBeLessThan(12_000);
      const run = await h.finished(id, 20_000);
      expect(run.status).toBe('COMPLETED');
      expect(run.steps[0]).toMatchObject({ status: 'COMPLETED', attempts: 2, result: { charged: 42, effects: 1 } });
      expect(requests.map((r) => r.context.attemptKind)).toEqual(['first', 'takeover']);
      expect(requests[0]!.context.idempotencyKey).toBe(`${id}/charge`);
      expect(requests[1]!.context.idempotencyKey).toBe(requests[0]!.context.idempotencyKey);
      expect(effects).toBe(1);
      expect(server.stats()).toMatchObject({ received: 2, ok: 1, deduplicated: 1 });
      // Another run of the same definition is another key: the side effect happens again.
      const again = await h.startOk({ definition: workflow([{ id: 'charge', tool: 'chaos.charge', parameters: { amount: 42 } }]) });
      expect((await h.finished(again, 20_000)).status).toBe('COMPLETED');
      expect(requests[2]!.context).toMatchObject({ idempotencyKey: `${again}/charge`, attemptKind: 'first' });
      expect(effects).toBe(2);
    } finally {
      seen.unsubscribe();
      await server.stop({ timeoutMs: 100 });
      redis.disconnect();
    }
  });

  it('kill -9 of the only executor, then a restart: the run completes', async () => {
    const a = await startService('executor', h.env);
    procs.push(a);
    const id = await h.startOk({ definition: slowRun(1500) });
    await waitFor(async () => {
      const r = await h.get(id);
      return r.ok && r.value.steps.some((s) => s.status === 'RUNNING');
    });
    await a.kill9();
    procs.push(await startService('executor', h.env));
    expectRightResults(await h.finished(id, 30_000));
  });

  it('two executors both process steps', async () => {
    const a = await startService('executor', h.env);
    const b = await startService('executor', h.env);
    procs.push(a, b);
    const ids = await Promise.all(Array.from({ length: 10 }, () => h.startOk({ definition: workflow(Array.from({ length: 8 }, (_, i) => delayStep(`s${i}`, 50))) })));
    for (const id of ids) expect((await h.finished(id)).status).toBe('COMPLETED');
    const [na, nb] = [await stepsProcessed(a), await stepsProcessed(b)];
    expect(na + nb).toBe(80);
    expect(na).toBeGreaterThan(0);
    expect(nb).toBeGreaterThan(0);
  });

  it('a Redis restart mid-run: the run completes', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tp-redis-'));
    let redis: ChildProcess | undefined;
    const startRedis = async () => {
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction'], {
        stdio: 'ignore',
      });
      await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG'), { what: 'private redis' });
    };
    await startRedis();
    const redisUrl = `redis://127.0.0.1:${port}`;
    try {
      const env = { ...h.env, REDIS_URL: redisUrl };
      procs.push(await startService('executor', env));
      const id = await h.startOk({ definition: slowRun(1500) });
      await waitFor(async () => {
        const r = await h.get(id);
        return r.ok && r.value.steps.some((s) => s.status === 'RUNNING');
      });
      const exited = new Promise((r) => redis!.once('exit', r));
      spawnSync('redis-cli', ['-p', String(port), 'shutdown']);
      await exited;
      await new Promise((r) => setTimeout(r, 500));
      await startRedis();
      expectRightResults(await h.finished(id, 60_000));
    } finally {
      for (const p of procs.splice(0)) await p.kill9();
      await obliterate(redisUrl, h.names.queuePrefix).catch(() => undefined);
      redis?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
