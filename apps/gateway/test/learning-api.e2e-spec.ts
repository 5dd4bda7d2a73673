import type { ToolEventInput } from '@toolpath/contracts';
import { EventPublisher } from '@toolpath/sdk';
import type { ServiceProcess } from '@toolpath/testing';
import { gatewayHarness, KEY_B } from './gateway-harness';

const REVIEW = ['github.get_pr', 'github.get_diff', 'slack.post'];
const TRIAGE = ['jira.search', 'jira.get', 'jira.comment'];

const ctx = gatewayHarness('gwlearn');
const call = ctx.call;
const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
/** Session i of each generated series starts at T0 + i s. */
const T0 = Date.now() - 120_000;

function sessions(tenantId: string, prefix: string, count: number, tools: string[], intent: string): ToolEventInput[] {
  const out: ToolEventInput[] = [];
  const t0 = T0;
  for (let i = 0; i < count; i++) {
    const sessionId = `${prefix}-${i}`;
    const calls = [tools[0], `noise.${i % 5}`, ...tools.slice(1)];
    calls.forEach((tool, seq) =>
      out.push({ kind: 'tool_call', sessionId, seq, tool, parameters: { n: seq }, result: { ok: true }, success: true, startedAt: t0 + i * 1000 + seq, durationMs: 10, intent, userId: 'ann' }),
    );
    out.push({ kind: 'session_end', sessionId, seq: calls.length, success: true, startedAt: t0 + i * 1000, durationMs: 50, intent });
  }
  void tenantId;
  return out;
}

async function publish(tenantId: string, events: ToolEventInput[]): Promise<void> {
  const pub = new EventPublisher(ctx.nc, { tenantId, subjectPrefix: ctx.names.subjectPrefix });
  for (const e of events) pub.publish(e);
  await pub.flush(30_000);
  await pub.close({ timeoutMs: 2000 });
}

// A tiny compaction ratio makes every run write a snapshot: the restart test then reads the process map from it.
const ANALYZER_ENV = { ANALYZER_SCHEDULE: 'off', ANALYZER_CATALOG_REFRESH_MS: '50', ANALYZER_COMPACT_RATIO: '0.0001' };
let analyzer: ServiceProcess;

beforeAll(async () => {
  await ctx.connect();
  analyzer = await ctx.startService('analyzer', ANALYZER_ENV);
  await ctx.startGateway();
  await publish('acme', [...sessions('acme', 'rev', 6, REVIEW, 'review a pull request'), ...sessions('acme', 'tri', 6, TRIAGE, 'triage a bug report')]);
  await publish('globex', sessions('globex', 'g', 5, REVIEW, 'review a pull request'));
}, 90_000);

afterAll(() => ctx.teardown());

describe('learning API', () => {
  it('refuses every learning route without a valid key', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/patterns'],
      ['GET', '/api/v1/patterns/abc'],
      ['POST', '/api/v1/patterns/abc/promote'],
      ['POST', '/api/v1/analyzer/runs'],
      ['GET', '/api/v1/analyzer/runs/latest'],
      ['GET', '/api/v1/suggestions?intent=x'],
      ['GET', '/api/v1/stats/patterns'],
      ['GET', '/api/v1/stats/intents'],
      ['GET', '/api/v1/stats/health'],
      ['GET', '/api/v1/stats/flow'],
      ['GET', '/api/v1/stats/variants'],
    ]) {
      expect((await call(method, path, { key: null })).status).toBe(401);
      expect((await call(method, path, { key: 'not-a-key-0123456789' })).status).toBe(401);
    }
  });

  it('runs the analyzer on request and shows the run', async () => {
    expect((await call('POST', '/api/v1/analyzer/runs', { body: { mode: 'sideways' } })).body).toMatchObject({ statusCode: 400, details: [{ field: 'mode' }] });
    expect((await call('POST', '/api/v1/analyzer/runs', { body: { waitMs: -1 } })).body.details[0].field).toBe('waitMs');
    const res = await call('POST', '/api/v1/analyzer/runs', { body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mode: 'incremental', status: 'completed', tenant: { sessionsClosed: 12 } });
    const globex = await call('GET', `/api/v1/analyzer/runs/${res.body.id}`, { key: KEY_B });
    expect(globex.body.tenant.sessionsClosed).toBe(5);
    expect((await call('GET', '/api/v1/analyzer/runs/latest')).body.id).toBe(res.body.id);
    expect((await call('GET', '/api/v1/analyzer/runs/run_missing')).status).toBe(404);
    expect((await call('GET', '/api/v1/analyzer/runs/not!an!id')).body).toMatchObject({ statusCode: 400 });
  }, 60_000);

  it('lists patterns with filters, sorting and cursor pagination, tenant by tenant', async () => {
    const all = await call('GET', '/api/v1/patterns');
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    const review = all.body.items.find((p: { tools: string[] }) => same(p.tools, REVIEW));
    expect(review).toMatchObject({ support: 6, successRate: 1, promotedWorkflowId: null });
    expect(review).toEqual(expect.objectContaining({ meanDurationMs: expect.any(Number), p95DurationMs: expect.any(Number), score: 6, confidence: expect.any(Number) }));
    const globex = await call('GET', '/api/v1/patterns', { key: KEY_B });
    expect(globex.body.items.find((p: { tools: string[] }) => same(p.tools, REVIEW)).support).toBe(5);
    expect(globex.body.items.some((p: { id: string }) => p.id === review.id)).toBe(false);

    expect((await call('GET', '/api/v1/patterns?tool=jira.get')).body.items.every((p: { tools: string[] }) => p.tools.includes('jira.get'))).toBe(true);
    expect((await call('GET', '/api/v1/patterns?minSupport=7')).body.items).toEqual([]);
    expect((await call('GET', '/api/v1/patterns?userId=nobody')).body.items).toEqual([]);
    expect((await call('GET', '/api/v1/patterns?userId=ann&minSupport=6')).body.items.length).toBeGreaterThanOrEqual(2);

    const first = await call('GET', '/api/v1/patterns?sort=support&limit=1');
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call('GET', `/api/v1/patterns?sort=support&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);

    for (const [query, field] of [
      ['minSupport=abc', 'minSupport'],
      ['minSuccessRate=2', 'minSuccessRate'],
      ['sort=random', 'sort'],
      ['limit=0', 'limit'],
      ['cursor=garbage', 'cursor'],
    ]) {
      const bad = await call('GET', `/api/v1/patterns?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body.details[0].field).toBe(field);
    }
    const unknown = await call('GET', '/api/v1/patterns?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('colour');
  });

  it('shows a pattern with its learned workflow and examples, and promotes it once', async () => {
    const review = (await call('GET', '/api/v1/patterns')).body.items.find((p: { tools: string[] }) => same(p.tools, REVIEW));
    const got = await call('GET', `/api/v1/patterns/${review.id}?examples=2`);
    expect(got.status).toBe(200);
    expect(got.body.workflow).toMatchObject({ source: 'learned' });
    expect(got.body.examples).toHaveLength(2);
    expect((await call('GET', `/api/v1/patterns/${review.id}`, { key: KEY_B })).status).toBe(404);
    expect((await call('POST', `/api/v1/patterns/${review.id}/promote`, { key: KEY_B })).status).toBe(404);
    expect((await call('GET', '/api/v1/patterns/bad.id')).status).toBe(400);
    expect((await call('GET', `/api/v1/patterns/${review.id}?examples=99`)).body.details[0].field).toBe('examples');

    const promoted = await call('POST', `/api/v1/patterns/${review.id}/promote`, { body: { name: 'Review a PR (learned)' } });
    expect(promoted.status).toBe(201);
    expect(promoted.body).toMatchObject({ patternId: review.id, created: true, workflow: { source: 'learned', name: 'Review a PR (learned)' } });
    expect(promoted.body.workflow.tags).toContain(`pattern-${review.id}`);
    const wf = await call('GET', `/api/v1/workflows/${promoted.body.workflow.id}`);
    expect(wf.status).toBe(200);
    expect(wf.body.steps.map((s: { tool: string }) => s.tool).sort()).toEqual([...REVIEW].sort());
    const again = await call('POST', `/api/v1/patterns/${review.id}/promote`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, workflow: { id: promoted.body.workflow.id } });
    expect((await call('GET', `/api/v1/patterns/${review.id}`)).body.promotedWorkflowId).toBe(promoted.body.workflow.id);
    expect((await call('GET', '/api/v1/workflows?source=learned')).body.items).toHaveLength(1);
  }, 60_000);

  it('suggests catalog workflows before learned ones, with reasons and next steps', async () => {
    const user = await call('POST', '/api/v1/workflows', {
      body: {
        name: 'Bug triage',
        description: 'Triage a bug report and comment on it',
        source: 'user',
        steps: [
          { id: 'find', tool: 'jira.search', parameters: {} },
          { id: 'read', tool: 'jira.get', dependsOn: ['find'], parameters: {} },
          { id: 'say', tool: 'jira.comment', dependsOn: ['read'], parameters: {} },
        ],
      },
    });
    expect(user.status).toBe(201);
    await new Promise((r) => setTimeout(r, 100));
    const res = await call('GET', '/api/v1/suggestions?intent=triage%20a%20bug&limit=5');
    expect(res.status).toBe(200);
    const items = res.body.items as Array<{ source: string; workflowId?: string; patternId?: string; tools: string[]; score: number; reasons: string[] }>;
    expect(items[0]).toMatchObject({ source: 'user', workflowId: user.body.id });
    const learned = items.find((s) => s.source === 'learned' && same(s.tools, TRIAGE));
    expect(learned).toBeDefined();
    expect(items.indexOf(learned!)).toBeGreaterThan(0);
    expect(learned!.reasons.join(' ')).toMatch(/learned from 6 sessions/);
    expect(learned!.reasons.join(' ')).toMatch(/intent matches/);
    expect(items.every((s) => s.score > 0)).toBe(true);

    const next = await call('GET', '/api/v1/suggestions?tools=jira.search,jira.get');
    expect(next.status).toBe(200);
    expect(next.body.items.find((s: { tools: string[] }) => same(s.tools, TRIAGE))).toMatchObject({ matchedSteps: 2, nextTool: 'jira.comment' });
    expect(next.body.nextSteps[0]).toMatchObject({ tool: 'jira.comment' });
    expect(next.body.nextSteps[0].probability).toBeGreaterThan(0.5);

    // The promoted review pattern is one suggestion (a learned one, with its catalog id), not two.
    const review = await call('GET', '/api/v1/suggestions?intent=review%20a%20pull%20request');
    const reviews = review.body.items.filter((s: { tools: string[] }) => same(s.tools, REVIEW));
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ source: 'learned', workflowId: expect.stringMatching(/^wf_/) });
    // Another tenant's catalog and patterns are not suggested.
    const globex = await call('GET', '/api/v1/suggestions?intent=triage%20a%20bug', { key: KEY_B });
    expect(globex.body.items).toEqual([]);

    expect((await call('GET', '/api/v1/suggestions')).body).toMatchObject({ statusCode: 400, details: [{ field: 'intent' }] });
    expect((await call('GET', '/api/v1/suggestions?intent=x&limit=0')).body.details[0].field).toBe('limit');
    expect((await call('GET', `/api/v1/suggestions?tools=${'t,'.repeat(150)}`)).status).toBe(400);
  }, 60_000);

  it('gives statistics per pattern and per intent, and a health summary', async () => {
    const patterns = await call('GET', '/api/v1/stats/patterns');
    expect(patterns.status).toBe(200);
    expect(patterns.body.items.find((s: { tools: string[] }) => same(s.tools, REVIEW))).toMatchObject({ total: 6, successful: 6, failed: 0, successRate: 1 });
    const intents = await call('GET', '/api/v1/stats/intents?limit=10');
    expect(intents.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ intent: 'triage a bug report', total: 6, successful: 6, failed: 0, successRate: 1, meanDurationMs: expect.any(Number) })]),
    );
    const health = await call('GET', '/api/v1/stats/health');
    expect(health.body.totals).toMatchObject({ sessions: 12, promoted: 1 });
    expect(health.body.last24h.sessions).toBe(12);
    expect(health.body.topCandidates.length).toBeGreaterThanOrEqual(1);
    expect(health.body.lastRun).toMatchObject({ status: 'completed' });
    expect((await call('GET', '/api/v1/stats/health', { key: KEY_B })).body.totals).toMatchObject({ sessions: 5, promoted: 0 });
    expect((await call('GET', '/api/v1/stats/intents?limit=abc')).body.details[0].field).toBe('limit');
  });

  it('draws the process map: the directly-follows graph of the closed sessions, with filters', async () => {
    const res = await call('GET', '/api/v1/stats/flow');
    expect(res.status).toBe(200);
    const edge = (from: string, to: string) => res.body.edges.find((e: { from: string; to: string }) => e.from === from && e.to === to);
    expect(res.body.sessions).toBe(12);
    expect(res.body.basis).toEqual({ source: 'all', exact: true, from: null, to: null, notes: [] });
    // Session i calls tools[0], noise.(i % 5), then the rest: noise.0 follows in sessions 0 and 5.
    expect(edge('github.get_pr', 'noise.0')).toEqual({ from: 'github.get_pr', to: 'noise.0', count: 2, meanGapMs: 0, p95GapMs: 0 });
    expect(edge('github.get_pr', 'noise.3').count).toBe(1);
    expect(edge('noise.0', 'jira.get').count).toBe(2);
    expect(edge('github.get_diff', 'slack.post').count).toBe(6);
    expect(edge('jira.get', 'jira.comment').count).toBe(6);
    expect(res.body.edges).toHaveLength(2 * (5 + 5 + 1));
    expect(res.body.edges.reduce((n: number, e: { count: number }) => n + e.count, 0)).toBe(12 * 3);
    expect(res.body.starts).toEqual([
      { tool: 'github.get_pr', count: 6 },
      { tool: 'jira.search', count: 6 },
    ]);
    expect(res.body.ends).toEqual([
      { tool: 'jira.comment', count: 6 },
      { tool: 'slack.post', count: 6 },
    ]);
    expect(res.body.activities.find((a: { tool: string }) => a.tool === 'noise.0')).toEqual({ tool: 'noise.0', count: 4 });
    expect(res.body.activities.reduce((n: number, a: { count: number }) => n + a.count, 0)).toBe(12 * 4);

    const review = await call('GET', `/api/v1/stats/flow?intent=${encodeURIComponent('  Review a Pull REQUEST')}`);
    expect(review.body).toMatchObject({ sessions: 6, starts: [{ tool: 'github.get_pr', count: 6 }], basis: { source: 'intent', exact: true } });
    expect((await call('GET', '/api/v1/stats/flow?userId=ann')).body).toMatchObject({ sessions: 12, basis: { source: 'user', exact: true } });
    expect((await call('GET', '/api/v1/stats/flow?agentId=nobody')).body).toMatchObject({ sessions: 0, edges: [], activities: [] });
    // Sessions 0..2 of each series start in [T0, T0 + 2.5 s): ISO and epoch ms alike.
    const from = new Date(T0).toISOString();
    const window = await call('GET', `/api/v1/stats/flow?from=${encodeURIComponent(from)}&to=${T0 + 2500}&userId=ann`);
    expect(window.body).toMatchObject({ sessions: 6, basis: { source: 'recent-sessions', exact: true, from, to: new Date(T0 + 2500).toISOString() } });
    expect(window.body.edges.find((e: { from: string; to: string }) => e.from === 'github.get_diff' && e.to === 'slack.post').count).toBe(3);

    // Tenant by tenant.
    const globex = await call('GET', '/api/v1/stats/flow', { key: KEY_B });
    expect(globex.body.sessions).toBe(5);
    expect(globex.body.activities.some((a: { tool: string }) => a.tool.startsWith('jira.'))).toBe(false);

    for (const [query, field] of [
      ['from=yesterday', 'from'],
      ['to=12:00', 'to'],
      [`from=${T0}&to=${T0}`, 'to'],
      ['userId=', 'userId'],
      ['intent=', 'intent'],
    ]) {
      const bad = await call('GET', `/api/v1/stats/flow?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body.details[0].field).toBe(field);
    }
    const unknown = await call('GET', '/api/v1/stats/flow?limit=5');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('limit');
  });

  it('lists the variants with counts and success rates, most frequent first, page by page', async () => {
    const res = await call('GET', '/api/v1/stats/variants');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sessions: 12, otherSessions: 0, nextCursor: null, basis: { source: 'all', exact: true } });
    expect(res.body.items).toHaveLength(10);
    expect(res.body.items.slice(0, 2).map((v: { tools: string[] }) => v.tools.join(' ')).sort()).toEqual([
      'github.get_pr noise.0 github.get_diff slack.post',
      'jira.search noise.0 jira.get jira.comment',
    ]);
    expect(res.body.items[0]).toMatchObject({ count: 2, length: 4, successful: 2, failed: 0, successRate: 1, share: 2 / 12, exact: true });
    expect(res.body.items.slice(2).every((v: { count: number }) => v.count === 1)).toBe(true);

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const got = await call('GET', `/api/v1/stats/variants?limit=3${q}`);
      expect(got.status).toBe(200);
      seen.push(...got.body.items.map((v: { variantId: string }) => v.variantId));
      cursor = got.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(res.body.items.map((v: { variantId: string }) => v.variantId));

    const triage = await call('GET', `/api/v1/stats/variants?intent=${encodeURIComponent('triage a bug report')}&limit=50`);
    expect(triage.body).toMatchObject({ sessions: 6, basis: { source: 'recent-sessions', exact: true } });
    expect(triage.body.items.every((v: { tools: string[] }) => v.tools[0] === 'jira.search')).toBe(true);
    expect((await call('GET', `/api/v1/stats/variants?from=${T0 + 4000}`)).body.sessions).toBe(4);
    const globex = await call('GET', '/api/v1/stats/variants', { key: KEY_B });
    expect(globex.body.sessions).toBe(5);
    expect(globex.body.items.some((v: { variantId: string }) => seen.includes(v.variantId))).toBe(true);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['cursor=garbage', 'cursor'],
      ['from=not-a-time', 'from'],
    ]) {
      const bad = await call('GET', `/api/v1/stats/variants?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body.details[0].field).toBe(field);
    }
    const unknown = await call('GET', '/api/v1/stats/variants?sort=rare');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('sort');
  });

  it('documents the process-map routes as they behave', async () => {
    const docs = await call('GET', '/docs-json', { key: null });
    const names = (path: string) => (docs.body.paths[path].get.parameters as Array<{ name: string; in: string }>).filter((p) => p.in === 'query').map((p) => p.name).sort();
    expect(names('/api/v1/stats/flow')).toEqual(['agentId', 'from', 'intent', 'to', 'userId']);
    expect(names('/api/v1/stats/variants')).toEqual(['agentId', 'cursor', 'from', 'intent', 'limit', 'to', 'userId']);
    const flow = docs.body.paths['/api/v1/stats/flow'].get.responses;
    expect(flow['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/FlowStats' });
    expect(flow['400']).toBeDefined();
    expect(flow['401']).toBeDefined();
    const schemas = docs.body.components.schemas;
    const live = await call('GET', '/api/v1/stats/flow');
    expect(Object.keys(live.body).sort()).toEqual(Object.keys(schemas.FlowStats.properties).sort());
    expect(Object.keys(live.body.edges[0]).sort()).toEqual(Object.keys(schemas.FlowStats.properties.edges.items.properties).sort());
    expect(Object.keys(live.body.basis).sort()).toEqual(Object.keys(schemas.FlowBasis.properties).sort());
    const page = await call('GET', '/api/v1/stats/variants');
    expect(Object.keys(page.body).sort()).toEqual(Object.keys(schemas.VariantPage.properties).sort());
    expect(Object.keys(page.body.items[0]).sort()).toEqual(Object.keys(schemas.Variant.properties).sort());
  });

  it('keeps the process map across an analyzer restart (read back from its snapshot)', async () => {
    const before = await call('GET', '/api/v1/stats/flow');
    const variants = await call('GET', '/api/v1/stats/variants?limit=200');
    // What it had was written at the end of the run (a snapshot, with the compaction ratio above).
    await analyzer.stop();
    analyzer = await ctx.startService('analyzer', ANALYZER_ENV);
    const after = await call('GET', '/api/v1/stats/flow');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(after.body.sessions).toBe(12);
    expect((await call('GET', '/api/v1/stats/variants?limit=200')).body).toEqual(variants.body);
  }, 60_000);
});
