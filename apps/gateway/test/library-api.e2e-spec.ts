import { validateWorkflow } from '@toolpath/workflow';
import { gatewayHarness } from './gateway-harness';

const KEY_A = 'key-acme-lib-0123456789abcdef';
const KEY_B = 'key-globex-lib-0123456789abcdef';

const ctx = gatewayHarness('gwlib', { keyA: KEY_A, keyB: KEY_B });
const call = ctx.call;

const workflow = (name: string, tools: string[], over: Record<string, unknown> = {}) => ({
  name,
  description: `${name} (test)`,
  source: 'user',
  steps: tools.map((tool, i) => ({ id: `s${i}`, tool, parameters: {}, ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}) })),
  ...over,
});

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '500' });
}, 60_000);

afterAll(() => ctx.teardown());

describe('templates', () => {
  it('lists the built-in templates by category, each a valid definition', async () => {
    const all = await call('GET', '/api/v1/workflows/templates');
    expect(all.status).toBe(200);
    const ids = all.body.items.map((t: any) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['github-pr-notify', 'fetch-transform-store-notify', 'approval', 'search-and-report', 'multi-region-deploy']));
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.categories).toEqual(expect.arrayContaining([{ category: 'deployment', count: 1 }]));
    const cats = all.body.items.map((t: any) => t.category);
    expect(cats).toEqual([...cats].sort());

    const deploy = await call('GET', '/api/v1/workflows/templates?category=deployment');
    expect(deploy.body.items.map((t: any) => t.id)).toEqual(['multi-region-deploy']);
    expect((await call('GET', '/api/v1/workflows/templates?tool=github.create_pr')).body.items.map((t: any) => t.id)).toEqual(['github-pr-notify']);
    expect((await call('GET', '/api/v1/workflows/templates?q=approval')).body.items.map((t: any) => t.id)).toEqual(['approval']);
    expect((await call('GET', '/api/v1/workflows/templates?bogus=1')).status).toBe(400);
    expect((await call('GET', '/api/v1/workflows/templates', { key: null })).status).toBe(401);
  });

  it('gets one template (not captured by /workflows/:id) and answers 404/400 for unknown or malformed ids', async () => {
    const t = await call('GET', '/api/v1/workflows/templates/multi-region-deploy');
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ id: 'multi-region-deploy', category: 'deployment', source: 'template', summary: { steps: 5 } });
    const { summary: _s, ...definition } = t.body;
    expect(validateWorkflow(definition).ok).toBe(true);
    const missing = await call('GET', '/api/v1/workflows/templates/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('no template "nope"');
    expect((await call('GET', '/api/v1/workflows/templates/Bad_Id')).status).toBe(400);
  });

  it('instantiates a copy in the tenant catalog with variables bound and the template id kept', async () => {
    const res = await call('POST', '/api/v1/workflows/templates/github-pr-notify/instantiate', { body: { variables: { repo: 'acme/api', channel: '#releases' }, tags: ['mine'] } });
    expect(res.status).toBe(201);
    const w = res.body;
    expect(w).toMatchObject({ source: 'template', templateId: 'github-pr-notify', version: 1, tags: ['mine'], name: 'Open a pull request and notify the team' });
    expect(w.id).toMatch(/^wf_/);
    expect(w.steps[0].parameters.repo).toBe('acme/api');
    expect(w.steps[2].parameters.channel).toBe('#releases');
    expect(Object.keys(w.variables.properties)).toEqual(['branch']);
    const got = await call('GET', `/api/v1/workflows/${w.id}`);
    expect(got.body).toMatchObject({ id: w.id, templateId: 'github-pr-notify', source: 'template' });
    // The template id survives an update.
    const { id: _i, version: _v, createdAt: _c, updatedAt: _u, templateId: _t, ...def } = got.body;
    const v2 = await call('PUT', `/api/v1/workflows/${w.id}`, { body: { ...def, description: 'edited' } });
    expect(v2.body).toMatchObject({ version: 2, templateId: 'github-pr-notify' });
    // Another tenant sees nothing of it.
    expect((await call('GET', `/api/v1/workflows/${w.id}`, { key: KEY_B })).status).toBe(404);

    const noVars = await call('POST', '/api/v1/workflows/templates/approval/instantiate');
    expect(noVars.status).toBe(201);
    expect(noVars.body.variables.required).toEqual(['approver', 'summary', 'actionUrl']);
  });

  it('names unknown variables, wrong types and unknown templates', async () => {
    const unknownVar = await call('POST', '/api/v1/workflows/templates/approval/instantiate', { body: { variables: { approverr: 'x' } } });
    expect(unknownVar.status).toBe(400);
    expect(unknownVar.body.details).toEqual([expect.objectContaining({ field: 'variables.approverr' })]);
    const wrongType = await call('POST', '/api/v1/workflows/templates/search-and-report/instantiate', { body: { variables: { maxResults: 'ten' } } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toMatch(/variables\.maxResults/);
    expect((await call('POST', '/api/v1/workflows/templates/nope/instantiate', { body: {} })).status).toBe(404);
    expect((await call('POST', '/api/v1/workflows/templates/approval/instantiate', { body: { extra: 1 } })).status).toBe(400);
  });
});

describe('search', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const create = async (key: string, body: unknown) => {
      const r = await call('POST', '/api/v1/workflows', { body, key });
      expect(r.status).toBe(201);
      return r.body.id as string;
    };
    ids.review = await create(KEY_A, workflow('Review pull requests', ['github.get_pr', 'slack.post'], { category: 'code-review', tags: ['github'] }));
    ids.deploy = await create(KEY_A, workflow('Deploy the API', ['docker.build', 'k8s.apply', 'slack.post'], { category: 'deployment', tags: ['k8s'] }));
    ids.backup = await create(KEY_A, workflow('Nightly database backup', ['db.dump', 'storage.put_object'], { category: 'ops', description: 'dumps postgres and uploads' }));
    ids.secret = await create(KEY_B, workflow('Deploy globex secret thing', ['docker.build', 'k8s.apply'], { category: 'deployment' }));
  });

  it('finds by text, ranking name hits first, and never shows another tenant', async () => {
    const r = await call('GET', '/api/v1/workflows/search?q=deploy');
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: any) => i.id)).toEqual([ids.deploy]);
    expect(r.body.items[0]).toMatchObject({ kind: 'workflow', name: 'Deploy the API', category: 'deployment', tools: ['docker.build', 'k8s.apply', 'slack.post'], coverage: null });
    expect(r.body.items[0].score).toBeGreaterThan(0);
    expect(r.body).toMatchObject({ nextCursor: null, truncated: false });
    const b = await call('GET', '/api/v1/workflows/search?q=deploy', { key: KEY_B });
    expect(b.body.items.map((i: any) => i.id)).toEqual([ids.secret]);
    expect((await call('GET', '/api/v1/workflows/search?q=postgres')).body.items.map((i: any) => i.id)).toEqual([ids.backup]);
  });

  it('filters by category, tag and tool', async () => {
    expect((await call('GET', '/api/v1/workflows/search?category=deployment')).body.items.map((i: any) => i.id)).toEqual([ids.deploy]);
    expect((await call('GET', '/api/v1/workflows/search?tag=github')).body.items.map((i: any) => i.id)).toEqual([ids.review]);
    const bySlack = (await call('GET', '/api/v1/workflows/search?tool=slack.post')).body.items.map((i: any) => i.id);
    expect(bySlack.sort()).toEqual([ids.review, ids.deploy].sort());
  });

  it('finds the workflows that cover a set of tools (all, or any ranked by coverage)', async () => {
    const all = await call('GET', '/api/v1/workflows/search?tools=docker.build,slack.post');
    expect(all.body.items.map((i: any) => i.id)).toEqual([ids.deploy]);
    expect(all.body.items[0]).toMatchObject({ matchedTools: ['docker.build', 'slack.post'], coverage: 1 });
    const any = await call('GET', '/api/v1/workflows/search?tools=docker.build&tools=slack.post&match=any');
    expect(any.body.items.map((i: any) => [i.id, i.coverage])).toEqual([
      [ids.deploy, 1],
      [ids.review, 0.5],
    ]);
    expect((await call('GET', '/api/v1/workflows/search?tools=nothing.here')).body.items).toEqual([]);
  });

  it('includes templates when asked, and validates its parameters', async () => {
    const r = await call('GET', '/api/v1/workflows/search?tools=k8s.apply&includeTemplates=true');
    expect(r.body.items.map((i: any) => [i.kind, i.id])).toEqual(
      expect.arrayContaining([
        ['workflow', ids.deploy],
        ['template', 'multi-region-deploy'],
      ]),
    );
    expect(r.body.items.some((i: any) => i.id === ids.secret)).toBe(false);
    const bad = await call('GET', '/api/v1/workflows/search?match=some');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('match');
    expect((await call('GET', '/api/v1/workflows/search?limit=0')).status).toBe(400);
  });

  it('keeps the existing list filters working beside it', async () => {
    const list = await call('GET', '/api/v1/workflows?tool=k8s.apply');
    expect(list.body.items.map((i: any) => i.id)).toEqual([ids.deploy]);
  });
});
