import { request } from 'node:http';
import { gatewayHarness } from './gateway-harness';

const ctx = gatewayHarness('gwmethods');
const call = ctx.call;

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway();
}, 60_000);

afterAll(async () => {
  await ctx.teardown();
});

/** A request with any method name (fetch refuses TRACE), answered status and headers. */
function raw(method: string, path: string): Promise<{ status: number; allow?: string; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, ctx.base), { method, headers: { authorization: `Bearer ${ctx.keyA}` }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end();
  });
}

describe('methods a path does not answer', () => {
  it('answer 405 with Allow naming the methods it does answer', async () => {
    const r = await raw('TRACE', '/api/v1/workflows');
    expect(r.status).toBe(405);
    expect(r.allow?.split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(r.body).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', message: expect.stringMatching(/^TRACE is not allowed on \/api\/v1\/workflows; it answers /) });
  });

  it('match paths with parameters, and keep the query string out', async () => {
    const r = await call('PATCH', '/api/v1/workflows/wf_123?x=1');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')?.split(', ')).toEqual(expect.arrayContaining(['GET', 'PUT', 'DELETE']));
  });

  it('answer 405 to a body method sent without the Content-Type Fastify asks of it (QUERY)', async () => {
    const r = await raw('QUERY', '/api/v1/analyzer/runs/latest');
    expect(r.status).toBe(405);
    expect(r.allow).toBe('GET, HEAD');
  });

  it('list the methods of the most specific route: a static path is not also the parametric one beside it', async () => {
    const r = await raw('OPTIONS', '/api/v1/workflows/generate');
    expect(r.status).toBe(405);
    expect(r.allow).toBe('POST');
  });

  it('leave a path no route has at 404, and a route that answers the method at its own answer', async () => {
    expect((await call('GET', '/api/v1/no-such-thing')).status).toBe(404);
    const missing = await call('GET', '/api/v1/workflows/wf_does_not_exist');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('allow')).toBeNull();
  });
});
