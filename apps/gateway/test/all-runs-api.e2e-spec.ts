import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_B } from './gateway-harness';

/**
 * `GET /api/v1/executions` against the real executor (spawned from its build: `npx tsc -b
 * apps/executor` first), the real NATS, Redis and database: every run of the tenant, filters,
 * keyset pages followed to the end, bad values, and the other tenant's runs kept apart.
 */
describe('Gateway API: every run of the tenant (e2e, real executor)', () => {
  const h = gatewayHarness('allruns');
  const call = h.call;
  let workflowId = '';
  const started: Array<{ id: string; workflowId?: string; fails: boolean }> = [];

  /** A one-step workflow; `core.transform` without a value fails its run. */
  const definition = (name: string, fails = false) => ({
    name,
    description: `${name} (listed)`,
    source: 'user',
    steps: [{ id: 'a', tool: 'core.transform', parameters: fails ? {} : { value: 1 } }],
  });

  beforeAll(async () => {
    await h.connect();
    await h.startGateway();
    await h.startService('executor');
    const wf = await call('POST', '/api/v1/workflows', { body: definition('Listed') });
    if (wf.status !== 201) throw new Error(`creating the workflow: ${wf.status} ${JSON.stringify(wf.body)}`);
    workflowId = wf.body.id;
    // 12 runs: 6 of the stored workflow (all completing), 6 inline (every second one failing).
    for (let i = 0; i < 12; i++) {
      if (i % 2 === 0) {
        const r = await call('POST', `/api/v1/workflows/${workflowId}/executions`);
        expect(r.status).toBe(202);
        started.push({ id: r.body.executionId, workflowId, fails: false });
      } else {
        const fails = i % 4 === 1;
        const r = await call('POST', '/api/v1/executions', { body: { definition: definition('Inline', fails) } });
        expect(r.status).toBe(202);
        started.push({ id: r.body.executionId, fails });
      }
    }
    const other = await call('POST', '/api/v1/executions', { key: KEY_B, body: { definition: definition('Theirs') } });
    expect(other.status).toBe(202);
    // Every run finished and its final row written with its places in the lists: the pages below
    // read the database's part of the list (a run not yet written is listed from Redis).
    const rows = h.mongo.db(h.names.mongoDb).collection('executions');
    await waitFor(async () => (await rows.countDocuments({ tenantId: 'acme', listSeq: { $exists: true } })) === 12, { timeoutMs: 30_000, what: 'all 12 runs recorded' });
  }, 90_000);

  afterAll(() => h.teardown(), 30_000);

  async function follow(query: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const r = await call('GET', `/api/v1/executions?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      ids.push(...r.body.items.map((x: { id: string }) => x.id));
      cursor = r.body.nextCursor;
      if (cursor === null) return ids;
      expect(cursor).toMatch(/^-?\d+(\.\d+)?(e[+-]?\d+)?~[A-Za-z0-9_-]*$/);
    }
    throw new Error('the pages never end');
  }

  const sorted = (ids: string[]) => [...ids].sort().reverse();

  it("lists every run of the tenant once, across pages, and none of another tenant's", async () => {
    const ids = await follow('', 5);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sorted(ids)).toEqual(sorted(started.map((s) => s.id)));
    const theirs = await call('GET', '/api/v1/executions', { key: KEY_B });
    expect(theirs.body.items).toHaveLength(1);
    expect(ids).not.toContain(theirs.body.items[0].id);
  });

  it('filters by workflow, by status and by both; a run listed opens by its id', async () => {
    expect(sorted(await follow(`&workflowId=${workflowId}`, 4))).toEqual(sorted(started.filter((s) => s.workflowId).map((s) => s.id)));
    expect(sorted(await follow('&status=FAILED', 2))).toEqual(sorted(started.filter((s) => s.fails).map((s) => s.id)));
    expect(await follow(`&workflowId=${workflowId}&status=FAILED`, 2)).toEqual([]);
    const one = await call('GET', `/api/v1/executions?status=COMPLETED&workflowId=${workflowId}&limit=1`);
    expect(one.body.items).toHaveLength(1);
    expect(one.body.items[0]).toMatchObject({ workflowId, status: 'COMPLETED' });
    expect(one.body.items[0].tenantId).toBeUndefined();
    expect(one.body.items[0].listSeq).toBeUndefined();
    const byId = await call('GET', `/api/v1/executions/${one.body.items[0].id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.id).toBe(one.body.items[0].id);
  });

  it('filters by the time runs ended', async () => {
    expect(sorted(await follow(`&from=${Date.now() - 600_000}`, 50))).toEqual(sorted(started.map((s) => s.id)));
    expect(await follow(`&to=${Date.now() - 600_000}`, 50)).toEqual([]);
  });

  it('answers 400 naming the field for a bad value', async () => {
    for (const [query, field] of [
      ['status=DONE', 'status'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['from=yesterday', 'from'],
      ['from=2026-02-01&to=2026-01-01', 'to'],
      ['cursor=nope', 'cursor'],
      ['workflowId=a%20b', 'workflowId'],
      ['colour=red', 'colour'],
    ]) {
      const r = await call('GET', `/api/v1/executions?${query}`);
      expect({ query, status: r.status }).toEqual({ query, status: 400 });
      expect(JSON.stringify(r.body)).toContain(field);
    }
  });

  it('documents the route with its filters and every status it answers', async () => {
    const docs = await call('GET', '/docs-json');
    const op = docs.body.paths['/api/v1/executions'].get;
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'from', 'limit', 'status', 'to', 'workflowId']);
    expect(op.parameters.find((p: { name: string }) => p.name === 'status').schema.enum).toEqual(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '503']));
  });
});
