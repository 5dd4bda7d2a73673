import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createToolpathClient, type ApiSchemas, type ToolpathClient } from '@toolpath/api-client';
import { gatewayHarness } from './gateway-harness';

/**
 * The generated client (libs/api-client) against a real gateway: its calls are type-checked
 * against the OpenAPI document, and the document it is generated from (the gateway's modules in
 * preview mode, no connections) is the one the running gateway serves.
 */
const ctx = gatewayHarness<{ client: ToolpathClient }>('gwclient');

const definition: ApiSchemas['WorkflowDefinition'] = {
  name: 'Refund an order',
  description: 'Look the order up, then refund its charge',
  source: 'user',
  tags: ['billing'],
  steps: [
    { id: 'order', tool: 'orders.get', parameters: { id: '{{ input.orderId }}' } },
    { id: 'refund', tool: 'payments.refund', dependsOn: ['order'], parameters: { charge: '{{ steps.order.result.charge }}' } },
  ],
};

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '500' });
  ctx.client = createToolpathClient({ baseUrl: `${ctx.base}/`, apiKey: ctx.keyA });
}, 60_000);

afterAll(() => ctx.teardown());

it('creates, lists and reads a workflow with typed calls', async () => {
  const created = await ctx.client.POST('/api/v1/workflows', { body: definition });
  expect(created.response.status).toBe(201);
  const id = created.data?.id;
  expect(id).toMatch(/^wf_[0-9a-f]+$/);
  expect(created.data).toMatchObject({ name: 'Refund an order', version: 1, source: 'user' });

  const list = await ctx.client.GET('/api/v1/workflows', { params: { query: { limit: 200, source: 'user' } } });
  expect(list.response.status).toBe(200);
  expect(list.data?.items?.map((w) => w.id)).toContain(id);

  const got = await ctx.client.GET('/api/v1/workflows/{id}', { params: { path: { id: id! } } });
  expect(got.data).toEqual(created.data);
});

it('answers errors in the ApiError shape, and the key names the tenant', async () => {
  const missing = await ctx.client.GET('/api/v1/workflows/{id}', { params: { path: { id: 'wf_0000000000000000' } } });
  expect(missing.data).toBeUndefined();
  expect(missing.error).toMatchObject({ statusCode: 404, error: 'Not Found' });

  const created = await ctx.client.POST('/api/v1/workflows', { body: { ...definition, name: 'Only acme sees this' } });
  const other = createToolpathClient({ baseUrl: ctx.base, apiKey: ctx.keyB });
  const seen = await other.GET('/api/v1/workflows/{id}', { params: { path: { id: created.data!.id } } });
  expect(seen.response.status).toBe(404);

  const unknownKey = createToolpathClient({ baseUrl: ctx.base, apiKey: 'not-a-key-0123456789' });
  const denied = await unknownKey.GET('/api/v1/workflows', {});
  expect(denied.response.status).toBe(401);
  expect(denied.error?.statusCode).toBe(401);
});

it('sends requests through the fetch it is given', async () => {
  const seen: string[] = [];
  const client = createToolpathClient({
    baseUrl: ctx.base,
    apiKey: ctx.keyA,
    fetch: (request) => {
      seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get('authorization')}`);
      return fetch(request);
    },
  });
  const list = await client.GET('/api/v1/workflows', { params: { query: { limit: 1 } } });
  expect(list.response.status).toBe(200);
  expect(seen).toEqual([`GET /api/v1/workflows Bearer ${ctx.keyA}`]);
});

it('is generated from the document the running gateway serves', async () => {
  const live = await fetch(`${ctx.base}/docs-json`).then((r) => r.json());
  // The printer the generator runs (built by `npx tsc -b tsconfig.build.json`, as the apps are).
  const printer = join(__dirname, '..', 'dist', 'print-openapi.js');
  const { stdout } = await promisify(execFile)(process.execPath, [printer], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  expect(JSON.parse(stdout)).toEqual(live);
});

// Never called: it only has to type-check. A path or a field the document does not have is an
// error, so the client cannot silently lose its types.
export function typeChecks(client: ToolpathClient): void {
  // @ts-expect-error: no such path in the document
  void client.GET('/api/v1/no-such-path');
  // @ts-expect-error: not one of the sources the document lists
  void client.POST('/api/v1/workflows', { body: { ...definition, source: 'somewhere' } });
  // @ts-expect-error: the path parameter is required
  void client.GET('/api/v1/workflows/{id}', {});
}
