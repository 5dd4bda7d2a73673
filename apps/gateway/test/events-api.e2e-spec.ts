import { headers as natsHeaders } from 'nats';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_B } from './gateway-harness';

// The gateway and the recorder create the events stream themselves.
const ctx = gatewayHarness('gw', { eventsStream: false });
const call = ctx.call;

const event = (over: Record<string, unknown> = {}) => ({
  kind: 'tool_call',
  sessionId: 's-1',
  tool: 'github.get_pr',
  parameters: { repo: 'acme/app', pr: 1 },
  success: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  durationMs: 10,
  ...over,
});

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) });
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
}, 90_000);

afterAll(() => ctx.teardown());

describe('auth', () => {
  it('refuses a missing, malformed or unknown key with 401 and the error format', async () => {
    for (const key of [null, 'wrong-key-0123456789']) {
      const r = await call('GET', '/api/v1/events', { key });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect(typeof r.body.message).toBe('string');
    }
    const res = await fetch(`${ctx.base}/api/v1/events`, { headers: { authorization: 'Basic abc' } });
    expect(res.status).toBe(401);
  });

  it('leaves health, metrics and docs open', async () => {
    expect((await call('GET', '/health', { key: null })).status).toBe(200);
    const metrics = await fetch(`${ctx.base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('toolpath_recorder_consumer_pending');
    const docs = await call('GET', '/docs-json', { key: null });
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/events', '/api/v1/sessions/{id}', '/api/v1/stats']));
    expect(docs.body.components.schemas.ToolEvent).toBeDefined();
  });
});

describe('events', () => {
  it('accepts one event and a batch, stores them, and serves the session in order', async () => {
    const one = await call('POST', '/api/v1/events', { body: event({ seq: 0, intent: 'review a PR' }) });
    expect(one.status).toBe(202);
    expect(one.body.accepted).toBe(1);
    const batch = await call('POST', '/api/v1/events', {
      body: [
        event({ seq: 2, tool: 'slack.post', durationMs: 30 }),
        event({ seq: 1, tool: 'github.comment', success: false, error: 'rate limited', durationMs: 20 }),
        { kind: 'session_end', sessionId: 's-1', success: false, startedAt: 1_795_000_000_000, durationMs: 70, intent: 'review a PR' },
      ],
    });
    expect(batch.status).toBe(202);
    expect(batch.body).toMatchObject({ accepted: 3, errors: [] });

    const session = await waitFor(async () => {
      const r = await call('GET', '/api/v1/sessions/s-1');
      return r.status === 200 && r.body.events.length === 4 ? r.body : undefined;
    }, { what: 'session s-1 stored' });
    expect(session.intent).toBe('review a PR');
    expect(session.success).toBe(false);
    expect(session.events.map((e: any) => e.tool ?? e.kind)).toEqual(['github.get_pr', 'github.comment', 'slack.post', 'session_end']);
    expect(session.events[0]).toMatchObject({ specVersion: '1', tenantId: 'acme', parameters: { repo: 'acme/app', pr: 1 } });
  });

  it('filters and paginates with a cursor, without gaps or repeats', async () => {
    const times = [1, 2, 3, 4, 5].map((i) => `2026-11-20T0${i}:00:00.000Z`);
    const posted = await call('POST', '/api/v1/events', { body: times.map((t, i) => event({ sessionId: 'page', seq: i, startedAt: t, tool: 'page.tool' })) });
    expect(posted.status).toBe(202);
    await waitFor(async () => (await call('GET', '/api/v1/events?sessionId=page&limit=10')).body.items?.length === 5, { what: 'page events' });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: any = await call('GET', `/api/v1/events?tool=page.tool&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((e: any) => e.startedAt));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...times].reverse());

    const failed = await call('GET', '/api/v1/events?success=false');
    expect(failed.body.items.every((e: any) => e.success === false)).toBe(true);
    expect(failed.body.items.length).toBeGreaterThan(0);
    const ranged = await call('GET', `/api/v1/events?sessionId=page&from=${encodeURIComponent(times[1])}&to=${encodeURIComponent(times[3])}`);
    expect(ranged.body.items.map((e: any) => e.startedAt)).toEqual([times[2], times[1]]);
  });

  it('reports stats overall, by tool and by intent, and recent sessions', async () => {
    const stats = await call('GET', '/api/v1/stats');
    expect(stats.status).toBe(200);
    const byTool = Object.fromEntries(stats.body.byTool.map((t: any) => [t.tool, t]));
    expect(byTool['github.comment']).toMatchObject({ total: 1, successful: 0, failed: 1, successRate: 0, avgDurationMs: 20 });
    expect(byTool['slack.post']).toMatchObject({ total: 1, successful: 1, avgDurationMs: 30 });
    expect(stats.body.overall.total).toBe(stats.body.overall.successful + stats.body.overall.failed);
    expect(stats.body.byIntent).toEqual([expect.objectContaining({ intent: 'review a PR', total: 1, failed: 1 })]);
    const recent = await call('GET', '/api/v1/sessions/recent?limit=5');
    expect(recent.body.items.map((s: any) => s.sessionId)).toEqual(expect.arrayContaining(['s-1', 'page']));
    const s1 = recent.body.items.find((s: any) => s.sessionId === 's-1');
    expect(s1).toMatchObject({ ended: true, success: false, toolCalls: 3, failedCalls: 1, intent: 'review a PR' });
  });

  it('stores a re-sent eventId once and says it was a duplicate', async () => {
    const e = event({ eventId: 'dup-1', sessionId: 'dups' });
    expect((await call('POST', '/api/v1/events', { body: e })).body.duplicates).toBe(0);
    expect((await call('POST', '/api/v1/events', { body: e })).body.duplicates).toBe(1);
    await waitFor(async () => (await call('GET', '/api/v1/sessions/dups')).status === 200, { what: 'dups stored' });
    const rows = await ctx.mongo.db(ctx.names.mongoDb).collection('tool_events').countDocuments({ _id: 'acme:dup-1' as never });
    expect(rows).toBe(1);
  });
});

describe('bad input', () => {
  it('answers 400 naming the field, never 500', async () => {
    const cases: Array<[unknown, string]> = [
      [event({ durationMs: -5 }), 'durationMs'],
      [event({ success: 'yes' }), 'success'],
      [event({ startedAt: 'yesterday' }), 'startedAt'],
      [event({ tool: undefined }), 'tool'],
      [event({ tenantId: 'globex' }), 'tenantId'],
      [event({ specVersion: '2' }), 'specVersion'],
      [event({ kind: 'other' }), 'kind'],
      ['just a string', '(root)'],
    ];
    for (const [body, field] of cases) {
      const r = await call('POST', '/api/v1/events', { body });
      expect({ field, status: r.status }).toEqual({ field, status: 400 });
      expect(JSON.stringify(r.body.details)).toContain(field);
      expect(r.body.message).toContain(field);
    }
    const badJson = await call('POST', '/api/v1/events', { raw: '{"kind":' });
    expect(badJson.status).toBe(400);
    const badQuery = await call('GET', '/api/v1/events?limit=abc&nope=1');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.details.map((d: any) => d.field)).toEqual(expect.arrayContaining(['limit']));
    const badCursor = await call('GET', '/api/v1/events?cursor=not-a-cursor');
    expect(badCursor.body).toMatchObject({ statusCode: 400, details: [{ field: 'cursor' }] });
  });

  it('answers 400 naming the field for parameters or a result nested 10,000 deep, and publishes nothing', async () => {
    // Sent as text: JSON.stringify of such a value overflows the stack.
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    for (const field of ['parameters', 'result']) {
      const raw = `${JSON.stringify(event({ sessionId: `deep-${field}`, parameters: undefined })).slice(0, -1)},"${field}":${deep}}`;
      const r = await call('POST', '/api/v1/events', { raw });
      expect({ field, status: r.status }).toEqual({ field, status: 400 });
      expect(r.body.message).toBe(`${field}: nested deeper than 64 levels of objects and arrays`);
      expect(r.body.details).toEqual([{ field, message: 'nested deeper than 64 levels of objects and arrays' }]);
      const batch = await call('POST', '/api/v1/events', { raw: `[${JSON.stringify(event({ sessionId: 'deep-batch' }))},${raw}]` });
      expect(batch.status).toBe(202);
      expect(batch.body.errors).toEqual([expect.objectContaining({ index: 1, field, reason: 'invalid_event' })]);
    }
    const rejected = await call('GET', '/api/v1/events/rejected');
    expect(JSON.stringify(rejected.body)).not.toContain('deep-');
  });

  it('lists the invalid items of a batch by index and accepts the rest', async () => {
    const r = await call('POST', '/api/v1/events', { body: [event({ sessionId: 'mixed' }), event({ durationMs: 'slow' }), event({ sessionId: 'mixed', seq: 1 })] });
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.errors).toEqual([expect.objectContaining({ index: 1, field: 'durationMs', reason: 'invalid_event' })]);
  });

  it('answers 413 for a batch over 1000, an event over 1 MB, and a body over the limit', async () => {
    const tooMany = await call('POST', '/api/v1/events', { body: Array.from({ length: 1001 }, () => event()) });
    expect(tooMany.status).toBe(413);
    const huge = await call('POST', '/api/v1/events', { body: event({ result: 'x'.repeat(1_100_000) }) });
    expect(huge.status).toBe(413);
    expect(huge.body.message).toMatch(/over the 1048576-byte limit/);
    const overBody = await call('POST', '/api/v1/events', { body: Array.from({ length: 5 }, () => event({ result: 'y'.repeat(900_000) })) });
    expect(overBody.status).toBe(413);
  });

  it('shows a tenant its own rejected events only', async () => {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'acme:broken-1');
    await ctx.nc.jetstream().publish(`${ctx.names.subjectPrefix}.events.acme`, new TextEncoder().encode('{"not json'), { headers: h });
    const mine = await waitFor(async () => {
      const r = await call('GET', '/api/v1/events/rejected');
      return r.body.items?.length ? r.body : undefined;
    }, { what: 'rejected event visible' });
    expect(mine.items[0]).toMatchObject({ reason: 'malformed_json', tenantId: 'acme', rawPreview: '{"not json' });
    const theirs = await call('GET', '/api/v1/events/rejected', { key: KEY_B });
    expect(theirs.body.items).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it("never shows one tenant another's data", async () => {
    expect((await call('GET', '/api/v1/sessions/s-1', { key: KEY_B })).status).toBe(404);
    expect((await call('GET', '/api/v1/events', { key: KEY_B })).body.items).toEqual([]);
    expect((await call('GET', '/api/v1/sessions/recent', { key: KEY_B })).body.items).toEqual([]);
    expect((await call('GET', '/api/v1/stats', { key: KEY_B })).body.overall.total).toBe(0);
    const own = await call('POST', '/api/v1/events', { key: KEY_B, body: event({ sessionId: 's-1' }) });
    expect(own.status).toBe(202);
    const theirs = await waitFor(async () => {
      const r = await call('GET', '/api/v1/sessions/s-1', { key: KEY_B });
      return r.status === 200 ? r.body : undefined;
    }, { what: 'globex session' });
    expect(theirs.events).toHaveLength(1);
    expect(theirs.events[0].tenantId).toBe('globex');
    const acme = await call('GET', '/api/v1/sessions/s-1');
    expect(acme.body.events.every((e: any) => e.tenantId === 'acme')).toBe(true);
  });
});
