import { dropTestResources, isolatedEnv, privateFerretDb, startService, testNames, waitFor, type ServiceProcess } from '@toolpath/testing';

const APPS = ['recorder', 'analyzer', 'executor', 'generator', 'gateway'] as const;
const API_KEYS = 'lifecycle-key-0123456789:life';

describe('every app', () => {
  const names = testNames('life');
  const env = { ...isolatedEnv(names), TOOLPATH_API_KEYS: API_KEYS };

  afterAll(async () => {
    await dropTestResources(names);
  });

  it.each(APPS)('%s starts, reports health and metrics, and stops gracefully on SIGTERM', async (app) => {
    const svc = await startService(app, env);
    try {
      const health = await fetch(`http://127.0.0.1:${svc.port}/health`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as { status: string; info: Record<string, unknown> };
      expect(body.status).toBe('ok');
      expect(Object.keys(body.info)).toEqual(expect.arrayContaining(['nats', 'mongo']));
      const metrics = await fetch(`http://127.0.0.1:${svc.port}/metrics`);
      expect(await metrics.text()).toContain('toolpath_process_cpu_seconds_total');
    } finally {
      const started = Date.now();
      await svc.stop(20_000);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(svc.output()).not.toMatch(/"level":(50|60)/);
    }
  }, 60_000);

  it('refuses to start with a bad setting, naming it', async () => {
    await expect(startService('recorder', { ...env, RECORDER_BATCH_SIZE: 'lots' }, { readyTimeoutMs: 10_000 })).rejects.toThrow(
      /RECORDER_BATCH_SIZE/,
    );
    await expect(startService('gateway', { ...env, TOOLPATH_API_KEYS: 'short:x' }, { readyTimeoutMs: 10_000 })).rejects.toThrow(/TOOLPATH_API_KEYS/);
  }, 30_000);
});

describe('readiness', () => {
  it('answers 503 naming the database while it is down, and recovers', async () => {
    const db = await privateFerretDb();
    await db.start();
    let svc: ServiceProcess | undefined;
    try {
      svc = await startService('analyzer', { ...isolatedEnv(testNames('ready')), MONGO_URL: db.url, DEPENDENCY_TIMEOUT_MS: '1000' });
      await db.stop();
      const down = await waitFor(async () => {
        const r = await fetch(`http://127.0.0.1:${svc!.port}/health`);
        return r.status === 503 ? ((await r.json()) as { message: string; details: { error: Record<string, { status: string }> } }) : undefined;
      }, { timeoutMs: 30_000, what: '503 while the database is down' });
      expect(down).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(down.message).toMatch(/mongo/);
      expect(down.details.error.mongo.status).toBe('down');
      expect((await fetch(`http://127.0.0.1:${svc.port}/health/live`)).status).toBe(200);
      await db.start();
      await waitFor(async () => (await fetch(`http://127.0.0.1:${svc!.port}/health`)).status === 200, { timeoutMs: 40_000, what: 'recovery' });
    } finally {
      await svc?.stop();
      await db.dispose();
    }
  }, 120_000);
});
