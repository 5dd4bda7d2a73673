import { JSONCodec, type Subscription } from 'nats';
import { EXECUTOR_QUEUE_GROUP, executorSubjects } from '@toolpath/contracts';
import { NatsClient } from '@toolpath/platform';
import { gatewayHarness } from './gateway-harness';

const codec = JSONCodec<any>();
const ctx = gatewayHarness<{ sub: Subscription; starts: number }>('gwsize');
const call = ctx.call;

const definition = {
  name: 'Echo',
  description: 'echoes its input',
  source: 'user',
  steps: [{ id: 'echo', tool: 'core.transform', parameters: { text: '{{ input.blob }}' } }],
};
const input = (bytes: number) => ({ blob: 'x'.repeat(bytes) });

beforeAll(async () => {
  await ctx.connect();
  // Long enough that a request lost on the way would not pass as a quick 503.
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '2000' });
  ctx.starts = 0;
  // An executor that accepts every start, so what the gateway answers is its own doing.
  ctx.sub = ctx.nc.subscribe(executorSubjects(ctx.names.subjectPrefix).start, {
    queue: EXECUTOR_QUEUE_GROUP,
    callback: (_err, msg) => {
      ctx.starts++;
      msg.respond(codec.encode({ ok: true, value: { executionId: `ex_${ctx.starts}`, status: 'PENDING', created: true } }));
    },
  });
  await ctx.nc.flush();
}, 60_000);

afterAll(async () => {
  ctx.sub?.unsubscribe();
  await ctx.teardown();
});

describe('a request body larger than NATS carries to the executor', () => {
  const maxPayload = () => ctx.app.get(NatsClient).nc.info!.max_payload;

  it.each([
    ['1.3 MB', 1_300_000],
    ['10 MB', 10_000_000],
  ])('POST /api/v1/executions with a %s input answers 413 naming the field and the limit, and sends nothing', async (_label, bytes) => {
    const before = ctx.starts;
    const r = await call('POST', '/api/v1/executions', { body: { definition, input: input(bytes) } });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large', details: [{ field: 'input' }] });
    expect(r.body.message).toContain(`${maxPayload()} bytes`);
    expect(r.body.message).toMatch(/^input: /);
    expect(ctx.starts).toBe(before);
  }, 30_000);

  it('the same for a stored workflow: POST /api/v1/workflows/:id/executions', async () => {
    const wf = await call('POST', '/api/v1/workflows', { body: definition });
    expect(wf.status).toBe(201);
    const r = await call('POST', `/api/v1/workflows/${wf.body.id}/executions`, { body: { input: input(1_300_000) } });
    expect(r.status).toBe(413);
    expect(r.body.details).toEqual([{ field: 'input', message: expect.stringContaining(String(maxPayload())) }]);
  }, 30_000);

  it('checks the size before walking the input: a million-element array with a bad key deep inside is a 413, not a walk then a 400', async () => {
    const big = { items: new Array(1_000_000).fill(7), deep: JSON.parse('{"x":{"__proto__":1}}') };
    const r = await call('POST', '/api/v1/executions', { body: { definition, input: big } });
    expect(r.status).toBe(413);
    expect(r.body.details).toEqual([{ field: 'input', message: expect.stringContaining(String(maxPayload())) }]);
    expect(r.body.message).toContain('at least');
  }, 30_000);

  it('an input too deep to encode is refused by the body checks (400 naming input), not a 500 from measuring it', async () => {
    const deep = `{"definition":${JSON.stringify(definition)},"input":{"a":${'{"b":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`;
    const r = await call('POST', '/api/v1/executions', { raw: deep });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^input/);
  }, 30_000);

  it('a large input within the limit is still forwarded', async () => {
    const before = ctx.starts;
    const r = await call('POST', '/api/v1/executions', { body: { definition, input: input(maxPayload() - 50_000) } });
    expect(r.status).toBe(202);
    expect(ctx.starts).toBe(before + 1);
  }, 30_000);
});

describe('a path parameter longer than the router takes', () => {
  it("answers 414 in the API's error shape, not the router's", async () => {
    const r = await call('GET', `/api/v1/workflows/${'w'.repeat(5000)}`);
    expect(r.status).toBe(414);
    expect(r.body).toEqual({ statusCode: 414, error: 'URI Too Long', message: 'a path parameter is over 3072 characters', details: { code: 'FST_ERR_MAX_PARAM_LENGTH' } });
  }, 30_000);
});
