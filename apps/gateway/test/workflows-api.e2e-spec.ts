import { gatewayHarness, KEY_B } from './gateway-harness';

const ctx = gatewayHarness('gwwf');
const call = ctx.call;

const definition = (over: Record<string, unknown> = {}) => ({
  name: 'Review a pull request',
  description: 'Fetch a PR and post a summary',
  category: 'code-review',
  tags: ['github', 'review'],
  source: 'user',
  steps: [
    { id: 'fetch', tool: 'github.get_pr', parameters: { repo: '{{ input.repo }}' } },
    { id: 'post', tool: 'slack.post', dependsOn: ['fetch'], parameters: { text: '{{ steps.fetch.result.title }}' } },
  ],
  ...over,
});

const workflowRows = () => ctx.mongo.db(ctx.names.mongoDb).collection('workflows').countDocuments({});
const versionRows = () => ctx.mongo.db(ctx.names.mongoDb).collection('workflow_versions').countDocuments({});

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '500' });
}, 60_000);

afterAll(() => ctx.teardown());

describe('catalog', () => {
  it('creates the listing index (tenant, newest first) at start', async () => {
    const indexes = await ctx.mongo.db(ctx.names.mongoDb).collection('workflows').indexes();
    expect(indexes.find((i) => i.name === 'tenant_created')?.key).toEqual({ tenantId: 1, createdAt: -1, _id: -1 });
  });

  it('creates, reads, versions, updates with expectedVersion, and soft-deletes', async () => {
    const created = await call('POST', '/api/v1/workflows', { body: definition() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: 1, name: 'Review a pull request', source: 'user', category: 'code-review', tags: ['github', 'review'] });
    expect(created.body.id).toMatch(/^wf_[0-9a-f]+$/);
    expect(Date.parse(created.body.createdAt)).not.toBeNaN();
    expect(created.body.updatedAt).toBe(created.body.createdAt);
    const id = created.body.id;
    const stored = await ctx.mongo.db(ctx.names.mongoDb).collection('workflows').findOne({ _id: `acme:${id}` as never });
    expect(stored).not.toBeNull();

    const got = await call('GET', `/api/v1/workflows/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const v2 = await call('PUT', `/api/v1/workflows/${id}`, { body: definition({ description: 'second' }) });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ id, version: 2, description: 'second', createdAt: created.body.createdAt });
    const v3 = await call('PUT', `/api/v1/workflows/${id}`, { body: { ...definition({ description: 'third' }), expectedVersion: 2 } });
    expect(v3.body).toMatchObject({ version: 3, description: 'third' });
    const stale = await call('PUT', `/api/v1/workflows/${id}`, { body: { ...definition({ description: 'lost' }), expectedVersion: 2 } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ statusCode: 409, error: 'Conflict', details: [{ field: 'expectedVersion' }] });
    const badExpected = await call('PUT', `/api/v1/workflows/${id}`, { body: { ...definition(), expectedVersion: 'x' } });
    expect(badExpected.status).toBe(400);

    const versions = await call('GET', `/api/v1/workflows/${id}/versions`);
    expect(versions.body.items.map((v: any) => [v.version, v.description])).toEqual([
      [3, 'third'],
      [2, 'second'],
      [1, 'Fetch a PR and post a summary'],
    ]);
    const paged = await call('GET', `/api/v1/workflows/${id}/versions?limit=2`);
    expect(paged.body.items.map((v: any) => v.version)).toEqual([3, 2]);
    const rest = await call('GET', `/api/v1/workflows/${id}/versions?limit=2&cursor=${paged.body.nextCursor}`);
    expect(rest.body).toMatchObject({ items: [{ version: 1 }], nextCursor: null });
    expect((await call('GET', `/api/v1/workflows/${id}/versions/2`)).body).toMatchObject({ version: 2, description: 'second' });
    expect((await call('GET', `/api/v1/workflows/${id}/versions/9`)).status).toBe(404);

    expect((await call('DELETE', `/api/v1/workflows/${id}`)).status).toBe(204);
    expect((await call('GET', `/api/v1/workflows/${id}`)).status).toBe(404);
    expect((await call('PUT', `/api/v1/workflows/${id}`, { body: definition() })).status).toBe(404);
    expect((await call('DELETE', `/api/v1/workflows/${id}`)).status).toBe(404);
    expect((await call('GET', `/api/v1/workflows/${id}/versions`)).status).toBe(404);
    const list = await call('GET', '/api/v1/workflows?limit=200');
    expect(list.body.items.map((w: any) => w.id)).not.toContain(id);
    const kept = await ctx.mongo.db(ctx.names.mongoDb).collection('workflow_versions').countDocuments({ _id: { $in: [1, 2, 3].map((v) => `acme:${id}:${v}`) } as never });
    expect(kept).toBe(3);
  });

  it('copies a workflow under a new id', async () => {
    const src = (await call('POST', '/api/v1/workflows', { body: definition({ name: 'Deploy' }) })).body;
    const copy = await call('POST', `/api/v1/workflows/${src.id}/copy`);
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ name: 'Deploy (copy)', version: 1, steps: src.steps, description: src.description });
    expect(copy.body.id).not.toBe(src.id);
    expect((await call('GET', `/api/v1/workflows/${copy.body.id}`)).body.name).toBe('Deploy (copy)');
    expect((await call('POST', '/api/v1/workflows/wf_nope/copy')).status).toBe(404);
  });

  it('filters by text, category, tag, tool and source, and paginates without gaps', async () => {
    const made: string[] = [];
    const specs = [
      definition({ name: 'Alpha invoice sync', category: 'billing', tags: ['finance'], source: 'learned' }),
      definition({ name: 'Beta', description: 'sends the weekly INVOICE digest', category: 'billing', tags: ['email'] }),
      definition({ name: 'Gamma', category: 'ops', tags: ['finance'], steps: [{ id: 'only', tool: 'pagerduty.page', parameters: {} }] }),
      definition({ name: 'Delta', category: 'ops', source: 'generated' }),
      definition({ name: 'Epsilon', category: 'ops' }),
    ];
    for (const body of specs) {
      const r = await call('POST', '/api/v1/workflows', { body });
      expect(r.status).toBe(201);
      made.push(r.body.id);
    }
    const ids = async (qs: string) => (await call('GET', `/api/v1/workflows?${qs}`)).body.items.map((w: any) => w.name).sort();
    expect(await ids('q=invoice')).toEqual(['Alpha invoice sync', 'Beta']);
    expect(await ids('category=billing')).toEqual(['Alpha invoice sync', 'Beta']);
    expect(await ids('tag=finance')).toEqual(['Alpha invoice sync', 'Gamma']);
    expect(await ids('tool=pagerduty.page')).toEqual(['Gamma']);
    expect(await ids('source=generated')).toEqual(['Delta']);
    expect(await ids('category=ops&tag=finance')).toEqual(['Gamma']);
    expect(await ids('q=%5E.*%24')).toEqual([]); // regex characters are text, not a pattern

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: any = await call('GET', `/api/v1/workflows?category=ops&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((w: any) => w.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(seen).toEqual([made[4], made[3], made[2]]);

    expect((await call('GET', '/api/v1/workflows?cursor=garbage')).body).toMatchObject({ statusCode: 400, details: [{ field: 'cursor' }] });
    const badQuery = await call('GET', '/api/v1/workflows?limit=0&source=robot&nope=1');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.details.map((d: any) => d.field)).toEqual(expect.arrayContaining(['limit', 'source']));
  });

  it('keeps tenants apart', async () => {
    const mine = (await call('POST', '/api/v1/workflows', { body: definition({ name: 'Acme only' }) })).body;
    for (const [method, path] of [
      ['GET', `/api/v1/workflows/${mine.id}`],
      ['DELETE', `/api/v1/workflows/${mine.id}`],
      ['POST', `/api/v1/workflows/${mine.id}/copy`],
      ['GET', `/api/v1/workflows/${mine.id}/versions`],
      ['GET', `/api/v1/workflows/${mine.id}/versions/1`],
    ]) {
      expect({ method, path, status: (await call(method, path, { key: KEY_B })).status }).toEqual({ method, path, status: 404 });
    }
    expect((await call('PUT', `/api/v1/workflows/${mine.id}`, { key: KEY_B, body: definition() })).status).toBe(404);
    expect((await call('GET', '/api/v1/workflows', { key: KEY_B })).body.items).toEqual([]);
    const theirs = await call('POST', '/api/v1/workflows', { key: KEY_B, body: definition({ name: 'Globex only' }) });
    expect(theirs.status).toBe(201);
    expect((await call('GET', '/api/v1/workflows', { key: KEY_B })).body.items.map((w: any) => w.name)).toEqual(['Globex only']);
    expect((await call('GET', '/api/v1/workflows?q=Globex')).body.items).toEqual([]);
    expect((await call('GET', `/api/v1/workflows/${mine.id}`)).status).toBe(200);
    expect((await call('GET', '/api/v1/workflows', { key: null })).status).toBe(401);
  });
});

describe('validation', () => {
  it('validates without storing: levels for a valid definition, errors for an invalid one', async () => {
    const before = [await workflowRows(), await versionRows()];
    const ok = await call('POST', '/api/v1/workflows/validate', {
      body: definition({ steps: [...definition().steps, { id: 'audit', tool: 'log.write', parameters: {} }] }),
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ valid: true, errors: [], levels: [['fetch', 'audit'], ['post']] });
    const bad = await call('POST', '/api/v1/workflows/validate', { body: definition({ steps: [{ id: 'a', tool: 't', dependsOn: ['ghost'] }] }) });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors[0]).toMatchObject({ stepId: 'a', code: 'unknown_dependency' });
    expect([await workflowRows(), await versionRows()]).toEqual(before);
  });

  it('refuses invalid definitions with 400 naming the step and field, and stores nothing', async () => {
    const before = [await workflowRows(), await versionRows()];
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 2000; i++) {
      const next: Record<string, unknown> = {};
      cursor.x = next;
      cursor = next;
    }
    const cases: Array<{ what: string; raw: string; stepId?: string; code: string; field?: string; message?: RegExp }> = [
      {
        what: 'cycle',
        raw: JSON.stringify(
          definition({
            steps: [
              { id: 'a', tool: 't', dependsOn: ['c'] },
              { id: 'b', tool: 't', dependsOn: ['a'] },
              { id: 'c', tool: 't', dependsOn: ['b'] },
            ],
          }),
        ),
        code: 'dependency_cycle',
        message: /→/,
      },
      { what: 'unknown dependency', raw: JSON.stringify(definition({ steps: [{ id: 'lonely', tool: 't', dependsOn: ['nobody'] }] })), stepId: 'lonely', code: 'unknown_dependency', field: 'steps[0].dependsOn[0]' },
      {
        what: 'constructor template',
        raw: JSON.stringify(definition({ steps: [{ id: 'evil', tool: 't', parameters: { x: "{{constructor.constructor('x')()}}" } }] })),
        stepId: 'evil',
        code: 'template',
      },
      {
        what: '__proto__ key',
        raw: `{"name":"p","description":"d","source":"user","steps":[{"id":"polluter","tool":"t","parameters":{"__proto__":{"admin":true}}}]}`,
        stepId: 'polluter',
        code: 'forbidden_key',
        field: 'steps[0].parameters.__proto__',
      },
      {
        what: '10,000 steps',
        raw: JSON.stringify(definition({ steps: Array.from({ length: 10_000 }, (_, i) => ({ id: `s${i}`, tool: 't', parameters: {} })) })),
        code: 'too_many_steps',
        field: 'steps',
      },
      { what: 'deep parameters', raw: JSON.stringify(definition({ steps: [{ id: 'deep', tool: 't', parameters: deep }] })), stepId: 'deep', code: 'too_deep' },
      { what: 'unknown key', raw: JSON.stringify(definition({ steps: [{ id: 'typo', tool: 't', depends_on: ['x'] }] })), stepId: 'typo', code: 'invalid_schema' },
    ];
    for (const c of cases) {
      for (const [method, path] of [
        ['POST', '/api/v1/workflows'],
        ['POST', '/api/v1/workflows/validate'],
      ]) {
        const r = await call(method, path, { raw: c.raw });
        const errors = method === 'POST' && path.endsWith('validate') ? r.body.errors : r.body.details;
        const summary = { what: c.what, path, status: r.status };
        expect(summary).toEqual({ ...summary, status: path.endsWith('validate') ? 200 : 400 });
        expect(Array.isArray(errors)).toBe(true);
        const hit = errors.find((e: any) => e.code.startsWith(c.code));
        expect({ what: c.what, hit: Boolean(hit) }).toEqual({ what: c.what, hit: true });
        if (c.stepId) expect(hit.stepId).toBe(c.stepId);
        if (c.field) expect(hit.field).toBe(c.field);
        if (c.message) expect(hit.message).toMatch(c.message);
        if (!path.endsWith('validate')) {
          expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
          if (c.stepId) expect(r.body.message).toContain(c.stepId);
        }
      }
    }
    const cycle = (await call('POST', '/api/v1/workflows', { raw: cases[0].raw })).body.details[0];
    expect(cycle.cycle).toEqual(expect.arrayContaining(['a', 'b', 'c']));
    expect((await call('POST', '/api/v1/workflows', { raw: '{"name":' })).status).toBe(400);
    expect((await call('POST', '/api/v1/workflows', { body: [1, 2] })).status).toBe(400);
    expect([await workflowRows(), await versionRows()]).toEqual(before);
    expect(({} as any).admin).toBeUndefined();
  });

  it('still refuses a __proto__ key outside the workflow routes', async () => {
    const r = await call('POST', '/api/v1/events', { raw: '{"kind":"tool_call","__proto__":{"x":1}}' });
    expect(r.status).toBe(400);
  });
});

describe('stats and docs', () => {
  it('answers 503 naming the executor when none answers', async () => {
    const wf = (await call('POST', '/api/v1/workflows', { body: definition() })).body;
    const r = await call('GET', `/api/v1/workflows/${wf.id}/stats`);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', details: { dependency: 'executor' } });
    expect(r.body.message).toMatch(/executor/);
  });

  it('documents the workflow routes with the definition schema as a component', async () => {
    const docs = await call('GET', '/docs-json', { key: null });
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/workflows',
        '/api/v1/workflows/{id}',
        '/api/v1/workflows/{id}/versions',
        '/api/v1/workflows/{id}/versions/{version}',
        '/api/v1/workflows/validate',
        '/api/v1/workflows/{id}/copy',
        '/api/v1/workflows/{id}/stats',
        '/api/v1/workflows/{id}/executions',
        '/api/v1/executions',
        '/api/v1/executions/{id}',
        '/api/v1/executions/{id}/cancel',
        '/api/v1/executions/{id}/stream',
      ]),
    );
    const schemas = docs.body.components.schemas;
    expect(schemas.WorkflowDefinition.properties.steps).toBeDefined();
    expect(schemas.WorkflowDefinition.$schema).toBeUndefined();
    expect(docs.body.paths['/api/v1/workflows'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/WorkflowDefinition' });
    for (const name of ['StoredWorkflow', 'WorkflowPage', 'WorkflowValidation', 'RunAccepted', 'Execution', 'ExecutionPage', 'WorkflowStats']) expect(schemas[name]).toBeDefined();
  });

  it('describes a stored workflow as it is answered: every field it has is in StoredWorkflow, every required one is there', async () => {
    const created = await call('POST', '/api/v1/workflows', { body: definition() });
    expect(created.status).toBe(201);
    const docs = await call('GET', '/docs-json', { key: null });
    const stored = docs.body.components.schemas.StoredWorkflow;
    expect(stored.additionalProperties).toBe(false);
    for (const answer of [created.body, (await call('GET', `/api/v1/workflows/${created.body.id}`)).body]) {
      expect(Object.keys(answer).filter((k) => !(k in stored.properties))).toEqual([]);
      expect(stored.required.filter((k: string) => !(k in answer))).toEqual([]);
    }
  });
});
