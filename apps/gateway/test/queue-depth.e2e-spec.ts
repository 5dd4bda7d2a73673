import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { STEP_QUEUE } from '@toolpath/contracts';
import { testUrls } from '@toolpath/testing';
import { gatewayHarness, KEY_B } from './gateway-harness';

/** Two tenants' keys (acme, globex), so the shared queues need GATEWAY_QUEUES_TENANTS. */
const ctx = gatewayHarness('gwqdepth');
const call = ctx.call;
let redis: IORedis;
let queue: Queue;

beforeAll(async () => {
  await ctx.connect();
  redis = new IORedis(testUrls.redis, { maxRetriesPerRequest: null });
  queue = new Queue(STEP_QUEUE, { connection: redis, prefix: `{${ctx.names.queuePrefix}}` });
  await queue.waitUntilReady();
}, 60_000);

afterAll(async () => {
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await redis?.quit().catch(() => undefined);
  await ctx.teardown();
});

describe('GET /api/v1/stats/queues', () => {
  it('refuses every tenant while keys of several tenants share the queues and none is named', async () => {
    await ctx.startGateway();
    const res = await call('GET', '/api/v1/stats/queues');
    expect(res.status).toBe(403);
    expect(res.body.message).toContain('GATEWAY_QUEUES_TENANTS');
    await ctx.stopGateway();
  });

  it('counts the step queue’s jobs by state for a named tenant, and refuses the others', async () => {
    await ctx.startGateway({ GATEWAY_QUEUES_TENANTS: 'acme' });
    const before = await call('GET', '/api/v1/stats/queues');
    expect(before.status).toBe(200);
    expect(before.body.queues).toEqual([{ name: STEP_QUEUE, counts: expect.objectContaining({ waiting: 0, active: 0, delayed: 0, failed: 0 }) }]);
    await queue.add('step', { n: 1 });
    await queue.add('step', { n: 2 }, { delay: 60_000 });
    const after = await call('GET', '/api/v1/stats/queues');
    expect(after.body.queues[0].counts).toMatchObject({ waiting: 1, delayed: 1, active: 0 });
    const other = await call('GET', '/api/v1/stats/queues', { key: KEY_B });
    expect(other.status).toBe(403);
    expect(other.body.message).toContain('globex');
    await ctx.stopGateway();
  });

  it('answers 503 with Retry-After, and keeps serving, when Redis does not answer', async () => {
    // A port nothing listens on: the connection is refused.
    await ctx.startGateway({ GATEWAY_QUEUES_TENANTS: 'acme', REDIS_URL: 'redis://127.0.0.1:1', DEPENDENCY_TIMEOUT_MS: '500' });
    const res = await call('GET', '/api/v1/stats/queues');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await call('GET', '/api/v1/workflows')).status).toBe(200);
    await ctx.stopGateway();
  });
});
