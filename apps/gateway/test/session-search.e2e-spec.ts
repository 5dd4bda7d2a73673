import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_B } from './gateway-harness';

// Session search and the events timeline over the real stack: events posted to the gateway,
// stored by the recorder, read back by the gateway. Each suite has its own stream and database.
const ctx = gatewayHarness('sessearch', { eventsStream: false });
const call = ctx.call;

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 8); // 2026-11-20T08:00Z

const call_ = (sessionId: string, atMs: number, over: Record<string, unknown> = {}) => ({ kind: 'tool_call', sessionId, tool: 'orders.get', success: true, startedAt: atMs, durationMs: 5, ...over });
const end = (sessionId: string, atMs: number, success: boolean, intent: string, over: Record<string, unknown> = {}) => ({ kind: 'session_end', sessionId, success, startedAt: atMs, durationMs: 5, intent, ...over });

const ACME = [
  call_('deploy-1', T0, { agentId: 'planner' }),
  call_('deploy-1', T0 + 60_000, { agentId: 'coder', success: false }),
  end('deploy-1', T0 + 120_000, false, 'Deploy the billing service'),
  call_('triage-1', T0 + H, { agentId: 'planner' }),
  end('triage-1', T0 + H + 1000, true, 'Triage a (flaky) test [ci]*'),
  call_('deploy-2', T0 + 2 * H + 5000),
  end('deploy-2', T0 + 2 * H + 6000, true, 'DEPLOY docs'),
  call_('open-1', T0 + 3 * H, { intent: 'deploy nothing yet' }),
];
const GLOBEX = [end('deploy-1', T0 + 4 * H, true, 'deploy their service', { agentId: 'planner' }), call_('theirs', T0 + 4 * H, { agentId: 'planner' })];

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway();
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
  expect((await call('POST', '/api/v1/events', { body: ACME })).status).toBe(202);
  expect((await call('POST', '/api/v1/events', { key: KEY_B, body: GLOBEX })).status).toBe(202);
  await waitFor(async () => (await call('GET', '/api/v1/events?limit=20')).body.items?.length === ACME.length, { what: 'acme events stored', timeoutMs: 20_000 });
  await waitFor(async () => (await call('GET', '/api/v1/events?limit=20', { key: KEY_B })).body.items?.length === GLOBEX.length, { what: 'globex events stored', timeoutMs: 20_000 });
}, 90_000);

afterAll(() => ctx.teardown());

/** Parameters no route of this suite takes. */
const UNKNOWN = new Set(['tool', 'extra']);

const ids = (body: any) => body.items.map((s: any) => s.sessionId);

/** Follows nextCursor to the end: every page's session ids. */
async function allPages(query: string, key?: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const r: any = await call('GET', `/api/v1/sessions?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, key ? { key } : {});
    expect(r.status).toBe(200);
    pages.push(ids(r.body));
    cursor = r.body.nextCursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describe('GET /api/v1/sessions', () => {
  it('lists sessions most recently active first, paged with the keyset cursor, each once', async () => {
    expect(await allPages('limit=2')).toEqual([
      ['open-1', 'deploy-2'],
      ['triage-1', 'deploy-1'],
    ]);
    const first = await call('GET', '/api/v1/sessions?limit=10');
    const deploy = first.body.items.find((s: any) => s.sessionId === 'deploy-1');
    expect(deploy).toEqual({
      sessionId: 'deploy-1',
      intent: 'Deploy the billing service',
      success: false,
      ended: true,
      events: 3,
      toolCalls: 2,
      failedCalls: 1,
      tools: ['orders.get'],
      agents: ['coder', 'planner'],
      firstStartedAt: new Date(T0).toISOString(),
      lastStartedAt: new Date(T0 + 120_000).toISOString(),
    });
  });

  it('searches the intent as plain text ignoring case, and filters by agent and outcome', async () => {
    expect((await allPages('intent=deploy')).flat()).toEqual(['open-1', 'deploy-2', 'deploy-1']);
    expect((await allPages(`intent=${encodeURIComponent('(FLAKY) test [ci]*')}`)).flat()).toEqual(['triage-1']);
    // Pattern syntax stands for itself: "." is a dot, not any character.
    expect((await allPages(`intent=${encodeURIComponent('deploy.the')}`)).flat()).toEqual([]);
    expect((await allPages('agentId=planner')).flat()).toEqual(['triage-1', 'deploy-1']);
    expect((await allPages('success=true')).flat()).toEqual(['deploy-2', 'triage-1']);
    expect((await allPages('success=false&intent=billing&agentId=coder')).flat()).toEqual(['deploy-1']);
    expect((await allPages('intent=deploy&limit=1')).flat()).toEqual(['open-1', 'deploy-2', 'deploy-1']);
  });

  it("never shows another tenant's sessions", async () => {
    expect((await allPages('intent=deploy', KEY_B)).flat()).toEqual(['deploy-1']);
    const theirs = await call('GET', '/api/v1/sessions', { key: KEY_B });
    expect(theirs.body.items).toEqual([expect.objectContaining({ sessionId: 'theirs' }), expect.objectContaining({ sessionId: 'deploy-1', intent: 'deploy their service', events: 1 })]);
    expect((await allPages('intent=their')).flat()).toEqual([]);
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: Array<[string, string]> = [
      ['intent=', 'intent'],
      [`intent=${'x'.repeat(201)}`, 'intent'],
      ['success=yes', 'success'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      ['agentId=', 'agentId'],
      ['tool=x', 'tool'],
    ];
    for (const [query, field] of cases) {
      const r = await call('GET', `/api/v1/sessions?${query}`);
      expect({ query, status: r.status }).toEqual({ query, status: 400 });
      // A parameter the route does not take is named in the message ("(root)" is its field).
      if (UNKNOWN.has(field)) expect(r.body.details).toEqual([expect.objectContaining({ field: '(root)', message: expect.stringContaining(field) })]);
      else expect(r.body.details.map((d: any) => d.field)).toContain(field);
    }
  });
});

describe('GET /api/v1/stats/timeline', () => {
  it('counts calls, failures and sessions per hour and per day, empty buckets included', async () => {
    const r = await call('GET', `/api/v1/stats/timeline?bucket=hour&from=${T0 - H}&to=${encodeURIComponent(new Date(T0 + 4 * H).toISOString())}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      bucket: 'hour',
      from: new Date(T0 - H).toISOString(),
      to: new Date(T0 + 4 * H).toISOString(),
      countedFrom: null,
      buckets: [
        { start: new Date(T0 - H).toISOString(), calls: 0, failures: 0, sessions: 0 },
        { start: new Date(T0).toISOString(), calls: 2, failures: 1, sessions: 1 },
        { start: new Date(T0 + H).toISOString(), calls: 1, failures: 0, sessions: 1 },
        { start: new Date(T0 + 2 * H).toISOString(), calls: 1, failures: 0, sessions: 1 },
        { start: new Date(T0 + 3 * H).toISOString(), calls: 1, failures: 0, sessions: 1 },
      ],
    });
    // A range inside a day widens to the whole UTC day.
    const day = await call('GET', `/api/v1/stats/timeline?bucket=day&from=${T0}&to=${T0 + 1}`);
    expect(day.body.from).toBe('2026-11-20T00:00:00.000Z');
    expect(day.body.buckets).toEqual([{ start: '2026-11-20T00:00:00.000Z', calls: 5, failures: 1, sessions: 4 }]);
    const theirs = await call('GET', `/api/v1/stats/timeline?bucket=day&from=${T0}&to=${T0 + 1}`, { key: KEY_B });
    expect(theirs.body.buckets).toEqual([{ start: '2026-11-20T00:00:00.000Z', calls: 1, failures: 0, sessions: 2 }]);
  });

  it('defaults to the last 24 hours', async () => {
    const r = await call('GET', '/api/v1/stats/timeline');
    expect(r.status).toBe(200);
    expect(r.body.bucket).toBe('hour');
    expect(r.body.buckets.length).toBeGreaterThanOrEqual(24);
    expect(r.body.buckets.length).toBeLessThanOrEqual(25);
    expect(Date.parse(r.body.to)).toBeGreaterThanOrEqual(Date.now() - H);
  });

  it('answers 400 naming the field for a bad bucket, an empty range or too many buckets', async () => {
    const cases: Array<[string, string]> = [
      ['bucket=week', 'bucket'],
      ['from=yesterday', 'from'],
      [`from=${T0}&to=${T0}`, 'to'],
      [`from=${T0}&to=${T0 - 1}`, 'to'],
      [`bucket=hour&from=${T0}&to=${T0 + 401 * H}`, 'from'],
      [`bucket=day&from=0&to=${T0}`, 'from'],
      ['extra=1', 'extra'],
    ];
    for (const [query, field] of cases) {
      const r = await call('GET', `/api/v1/stats/timeline?${query}`);
      expect({ query, status: r.status }).toEqual({ query, status: 400 });
      // A parameter the route does not take is named in the message ("(root)" is its field).
      if (UNKNOWN.has(field)) expect(r.body.details).toEqual([expect.objectContaining({ field: '(root)', message: expect.stringContaining(field) })]);
      else expect(r.body.details.map((d: any) => d.field)).toContain(field);
    }
    expect((await call('GET', `/api/v1/stats/timeline?bucket=hour&from=${T0}&to=${T0 + 400 * H}`)).status).toBe(200);
  });

  it('is documented with its parameters and statuses', async () => {
    const docs = await call('GET', '/docs-json', { key: null });
    const timeline = docs.body.paths['/api/v1/stats/timeline'].get;
    expect(timeline.parameters.map((p: any) => p.name).sort()).toEqual(['bucket', 'from', 'to']);
    expect(Object.keys(timeline.responses).sort()).toEqual(['200', '400', '401']);
    const search = docs.body.paths['/api/v1/sessions'].get;
    expect(search.parameters.map((p: any) => p.name).sort()).toEqual(['agentId', 'cursor', 'intent', 'limit', 'success']);
    expect(Object.keys(search.responses).sort()).toEqual(['200', '400', '401']);
  });
});
