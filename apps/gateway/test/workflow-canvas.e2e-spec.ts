import { gatewayHarness, KEY_B } from './gateway-harness';

const ctx = gatewayHarness('gwcanvas');
const call = ctx.call;

const definition = {
  name: 'Two steps',
  description: 'Fetch a page and post its title',
  source: 'user',
  steps: [
    { id: 'fetch', tool: 'http.get', parameters: { url: '{{ input.url }}' } },
    { id: 'post', tool: 'slack.post', dependsOn: ['fetch'], parameters: { text: '{{ steps.fetch.result.title }}' } },
  ],
};

let workflowId: string;

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '500' });
  const created = await call('POST', '/api/v1/workflows', { body: definition });
  expect(created.body).toMatchObject({ version: 1 });
  workflowId = created.body.id;
}, 60_000);

afterAll(() => ctx.teardown());

describe('the builder canvas', () => {
  it('is empty until saved, then answers exactly what was stored, without a new version', async () => {
    const empty = await call('GET', `/api/v1/workflows/${workflowId}/canvas`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ workflowId, nodes: {}, viewport: null, updatedAt: null });

    const layout = { nodes: { fetch: { x: 0.1, y: -20 }, post: { x: 240.5, y: 1e6 } }, viewport: { x: -12.25, y: 3, zoom: 0.75 } };
    const put = await call('PUT', `/api/v1/workflows/${workflowId}/canvas`, { body: layout });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ workflowId, ...layout });
    expect(Date.parse(put.body.updatedAt)).not.toBeNaN();

    const got = await call('GET', `/api/v1/workflows/${workflowId}/canvas`);
    expect(got.body).toEqual(put.body);
    const workflow = await call('GET', `/api/v1/workflows/${workflowId}`);
    expect(workflow.body.version).toBe(1);
  });

  it('replaces the whole layout on each save (a viewport left out is cleared)', async () => {
    const put = await call('PUT', `/api/v1/workflows/${workflowId}/canvas`, { body: { nodes: { fetch: { x: 1, y: 2 } } } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ nodes: { fetch: { x: 1, y: 2 } }, viewport: null });
    const rows = await ctx.mongo.db(ctx.names.mongoDb).collection('workflow_canvases').countDocuments({});
    expect(rows).toBe(1);
  });

  it.each([
    ['a missing body', undefined, '(root)'],
    ['a step id that is not one', { nodes: { 'a.b': { x: 1, y: 1 } } }, 'nodes.a.b'],
    ['a position that is not a number', { nodes: { fetch: { x: '1', y: 1 } } }, 'nodes.fetch.x'],
    ['an unknown field', { nodes: {}, zoom: 2 }, ''],
    ['a zoom out of range', { nodes: {}, viewport: { x: 0, y: 0, zoom: 0 } }, 'viewport.zoom'],
  ])('refuses %s with a 400 naming the field, and stores nothing', async (_label, body, field) => {
    const before = await call('GET', `/api/v1/workflows/${workflowId}/canvas`);
    const res = await call('PUT', `/api/v1/workflows/${workflowId}/canvas`, body === undefined ? {} : { body });
    expect(res.status).toBe(400);
    if (field) expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    const after = await call('GET', `/api/v1/workflows/${workflowId}/canvas`);
    expect(after.body).toEqual(before.body);
  });

  it('answers 404 for an unknown workflow and for another tenant’s', async () => {
    expect((await call('GET', '/api/v1/workflows/wf_nope/canvas')).status).toBe(404);
    expect((await call('PUT', '/api/v1/workflows/wf_nope/canvas', { body: { nodes: {} } })).status).toBe(404);
    expect((await call('GET', `/api/v1/workflows/${workflowId}/canvas`, { key: KEY_B })).status).toBe(404);
    expect((await call('PUT', `/api/v1/workflows/${workflowId}/canvas`, { key: KEY_B, body: { nodes: {} } })).status).toBe(404);
  });

  it('answers 404 once the workflow is deleted', async () => {
    const created = await call('POST', '/api/v1/workflows', { body: definition });
    expect((await call('DELETE', `/api/v1/workflows/${created.body.id}`)).status).toBe(204);
    expect((await call('GET', `/api/v1/workflows/${created.body.id}/canvas`)).status).toBe(404);
  });
});
