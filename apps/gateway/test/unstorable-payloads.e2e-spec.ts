import { headers as natsHeaders } from 'nats';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness } from './gateway-harness';

/*
 * Payloads JSON allows but the databases cannot keep exactly (a NUL in a string or key, an array
 * directly inside an array, keys starting with `$` or containing `.`, `__proto__` keys) are
 * refused where they enter, naming the field: REST with 400 (and `/workflows/validate` says so),
 * NATS producers' events as dead letters with the reason. Nothing is answered 2xx and then lost.
 * Against the real FerretDB, with the real recorder.
 */
const ctx = gatewayHarness('gwstore', { eventsStream: false });
const call = ctx.call;

const NUL = String.fromCharCode(0);

/** Each case as raw JSON text of `parameters` (so `__proto__` arrives as a key), and the field. */
const cases: Array<{ what: string; raw: string; field: string; message: RegExp }> = [
  { what: 'NUL in a value', raw: JSON.stringify({ note: `a${NUL}b` }), field: 'note', message: /NUL/ },
  { what: 'NUL in a key', raw: JSON.stringify({ [`k${NUL}`]: 1 }), field: 'k\\u0000', message: /NUL/ },
  { what: 'nested array', raw: JSON.stringify({ matrix: [1, [2, 3]] }), field: 'matrix[1]', message: /array/ },
  { what: '$ key', raw: JSON.stringify({ filter: { $gt: 1 } }), field: 'filter.$gt', message: /"\$"/ },
  { what: 'dotted key', raw: JSON.stringify({ 'a.b': 1 }), field: 'a.b', message: /"\."/ },
  { what: '__proto__ key', raw: '{"x":{"__proto__":{"polluted":true}}}', field: 'x.__proto__', message: /__proto__/ },
];

/** What every server keeps, read back unchanged. */
const storable = { a$: 1, '': 'empty key', list: [{ inner: [1, 2] }, 'x'], 'x-y': { z: [] }, text: 'üñí ✓ \\u0000 as text' };

const event = (over: Record<string, unknown> = {}) => ({
  kind: 'tool_call',
  sessionId: 's-store',
  tool: 'store.check',
  success: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  durationMs: 1,
  ...over,
});

/** A workflow definition as JSON text with `parametersRaw` spliced in as the step's parameters. */
const definitionText = (parametersRaw: string, name = 'Store check') =>
  `{"name":${JSON.stringify(name)},"description":"d","source":"user","steps":[{"id":"a","tool":"t","parameters":${parametersRaw}}]}`;

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_EXECUTOR_TIMEOUT_MS: '500' });
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
}, 90_000);

afterAll(() => ctx.teardown());

describe('events', () => {
  it.each(cases)('POST /events answers 400 naming the field for a $what in parameters or result', async ({ raw, field, message }) => {
    for (const name of ['parameters', 'result']) {
      const body = `${JSON.stringify(event()).slice(0, -1)},"${name}":${raw}}`;
      const r = await call('POST', '/api/v1/events', { raw: body });
      expect({ name, status: r.status }).toEqual({ name, status: 400 });
      // `__proto__` never reaches the event routes' checks: their JSON parser refuses the body.
      if (!raw.includes('__proto__')) expect(r.body.details).toEqual([{ field: `${name}.${field}`, message: expect.stringMatching(message) }]);
    }
  });

  it('stores what every server keeps byte-identical', async () => {
    const r = await call('POST', '/api/v1/events', { body: event({ sessionId: 's-kept', parameters: storable, result: [storable] }) });
    expect(r.status).toBe(202);
    const session = await waitFor(async () => {
      const s = await call('GET', '/api/v1/sessions/s-kept');
      return s.status === 200 && s.body.events?.length ? s.body : undefined;
    }, { what: 'stored event', timeoutMs: 15_000 });
    expect(JSON.stringify(session.events[0].parameters)).toBe(JSON.stringify(storable));
    expect(JSON.stringify(session.events[0].result)).toBe(JSON.stringify([storable]));
  });

  it('dead-letters a NATS producer\'s event with the field and reason (never stored altered)', async () => {
    const js = ctx.nc.jetstream();
    for (const [i, c] of cases.entries()) {
      const id = `raw-${i}`;
      const body = `${JSON.stringify({ ...event({ sessionId: `raw-${i}` }), specVersion: '1', eventId: id, tenantId: 'acme' }).slice(0, -1)},"parameters":${c.raw}}`;
      const h = natsHeaders();
      h.set('Nats-Msg-Id', `acme:${id}`);
      await js.publish(`${ctx.names.subjectPrefix}.events.acme`, new TextEncoder().encode(body), { headers: h });
    }
    const rejected = await waitFor(async () => {
      const r = await call('GET', '/api/v1/events/rejected?limit=100');
      const items = (r.body.items ?? []).filter((x: { eventId?: string }) => x.eventId?.startsWith('raw-'));
      return items.length === cases.length ? items : undefined;
    }, { what: 'every raw event dead-lettered', timeoutMs: 20_000 });
    for (const [i, c] of cases.entries()) {
      const row = rejected.find((x: { eventId: string }) => x.eventId === `raw-${i}`);
      expect({ what: c.what, reason: row.reason, field: row.field }).toEqual({ what: c.what, reason: 'invalid_event', field: `parameters.${c.field}` });
    }
    const stored = await ctx.mongo.db(ctx.names.mongoDb).collection('tool_events').countDocuments({ eventId: { $regex: '^raw-' } });
    expect(stored).toBe(0);
  });
});

describe('workflows', () => {
  it.each(cases)('create, update and validate agree on a $what in step parameters: 400 naming the field', async ({ raw, field, message }) => {
    const text = definitionText(raw);
    const expected = { stepId: 'a', field: `steps[0].parameters.${field}`, message: expect.stringMatching(message) };
    const validated = await call('POST', '/api/v1/workflows/validate', { raw: text });
    expect(validated.status).toBe(200);
    expect(validated.body.valid).toBe(false);
    expect(validated.body.errors).toEqual([expect.objectContaining(expected)]);

    const created = await call('POST', '/api/v1/workflows', { raw: text });
    expect(created.status).toBe(400);
    expect(created.body.details).toEqual([expect.objectContaining(expected)]);

    const base = await call('POST', '/api/v1/workflows', { raw: definitionText('{"ok":1}') });
    expect(base.status).toBe(201);
    const updated = await call('PUT', `/api/v1/workflows/${base.body.id}`, { raw: text });
    expect(updated.status).toBe(400);
    expect(updated.body.details).toEqual([expect.objectContaining(expected)]);
    expect((await call('GET', `/api/v1/workflows/${base.body.id}`)).body.version).toBe(1);
  });

  it('refuses a NUL in the name the same way', async () => {
    const text = definitionText('{}', `bad${NUL}name`);
    const validated = await call('POST', '/api/v1/workflows/validate', { raw: text });
    expect(validated.body.errors).toEqual([expect.objectContaining({ field: 'name', code: 'unstorable' })]);
    const created = await call('POST', '/api/v1/workflows', { raw: text });
    expect(created.status).toBe(400);
    expect(created.body.details).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('stores what every server keeps and reads it back byte-identical', async () => {
    const created = await call('POST', '/api/v1/workflows', { raw: definitionText(JSON.stringify(storable)) });
    expect(created.status).toBe(201);
    const got = await call('GET', `/api/v1/workflows/${created.body.id}`);
    expect(JSON.stringify(got.body.steps[0].parameters)).toBe(JSON.stringify(storable));
  });
});

describe('executions', () => {
  it.each(cases)('POST /executions answers 400 naming the field for a $what in the input', async ({ raw, field, message }) => {
    const body = `{"definition":${definitionText('{"v":"{{ input.x }}"}')},"input":${raw}}`;
    const r = await call('POST', '/api/v1/executions', { raw: body });
    expect(r.status).toBe(400);
    const expected = field === 'x.__proto__' ? 'input.x.__proto__' : `input.${field}`;
    expect(r.body.details).toEqual([{ field: expected, message: expect.stringMatching(raw.includes('__proto__') ? /__proto__/ : message) }]);

    const stored = await call('POST', '/api/v1/workflows', { raw: definitionText('{}') });
    const run = await call('POST', `/api/v1/workflows/${stored.body.id}/executions`, { raw: `{"input":${raw}}` });
    expect(run.status).toBe(400);
    expect(run.body.details[0].field).toBe(expected);
  });
});
