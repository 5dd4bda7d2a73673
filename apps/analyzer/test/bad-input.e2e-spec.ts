import type { ServiceProcess } from '@toolpath/testing';
import { AnalyzerHarness, plantedSessions, type SessionSpec } from './analyzer-harness';

/*
 * Bad input on the stream (issue 11): an event nested 10,000 deep, and sessions far longer than
 * ANALYZER_MAX_STEPS_PER_SESSION. Each is skipped or cut and counted; no run fails or stalls, for
 * the tenant that sent it or any other.
 */

const REVIEW = ['github.get_pr', 'github.get_diff', 'slack.post'];
const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
const deepEvent = (field: string) =>
  `{"specVersion":"1","kind":"tool_call","eventId":"deep-${field}","tenantId":"acme","sessionId":"deep","tool":"t","success":true,"startedAt":1700000000000,"durationMs":1,"${field}":${deep}}`;

describe('analyzer: bad input on the stream', () => {
  let h: AnalyzerHarness;
  let analyzer: ServiceProcess;

  beforeAll(async () => {
    h = await AnalyzerHarness.open('an-bad');
    analyzer = await h.startAnalyzer({ ANALYZER_SESSION_IDLE_MS: '1500', ANALYZER_MAX_STEPS_PER_SESSION: '1000' });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('skips and counts events whose parameters or result nest 10,000 deep, and goes on for every tenant', async () => {
    const before = await h.publish('globex', plantedSessions('g', 3, REVIEW));
    await h.publishRaw('acme', deepEvent('parameters'));
    await h.publishRaw('acme', deepEvent('result'));
    const after = await h.publish('acme', plantedSessions('a', 3, REVIEW));
    const run = await h.run('globex');
    // Each tenant sees its own share of the run: the other tenant's bad events did not stop it.
    expect(run).toMatchObject({ status: 'completed', eventsRead: before, invalidEvents: 0 });
    expect(run.tenant).toMatchObject({ sessionsClosed: 3 });
    const acmeView = await h.value('getRun', { tenantId: 'acme', runId: run.id });
    expect(acmeView).toMatchObject({ status: 'completed', eventsRead: after + 2, invalidEvents: 2 });
    expect(acmeView.tenant).toMatchObject({ sessionsClosed: 3 });
    const acme = await h.value('health', { tenantId: 'acme' });
    expect(acme.totals).toMatchObject({ sessions: 3 });
  }, 90_000);

  it('mines the first ANALYZER_MAX_STEPS_PER_SESSION calls of a longer session and reports the rest as dropped', async () => {
    const tools = Array.from({ length: 25_000 }, (_, i) => ['search', 'open', 'read', 'edit'][(i * 3 + (i >> 4)) % 4]);
    const long: SessionSpec = { sessionId: 'long-1', tools, startedAt: Date.now() - 3_600_000 };
    const published = await h.publish('acme', [long, { ...long, sessionId: 'long-2' }]);
    const run = await h.run('acme');
    expect(run).toMatchObject({ status: 'completed', eventsRead: published, invalidEvents: 0 });
    expect(run.tenant).toMatchObject({ sessionsClosed: 2 });
    const row = await h.db.collection<{ _id: string; tenants: Record<string, { droppedSteps?: number }>; warnings: string[] }>('analyzer_runs').findOne({ _id: run.id });
    expect(row!.tenants.acme.droppedSteps).toBe(48_000);
    expect(row!.warnings).toContain('acme: 48000 calls beyond ANALYZER_MAX_STEPS_PER_SESSION (1000) in one session were not mined');
    expect(analyzer.output()).toContain('48000 calls beyond ANALYZER_MAX_STEPS_PER_SESSION');
    const metrics = await (await fetch(`http://127.0.0.1:${analyzer.port}/metrics`)).text();
    expect(metrics).toMatch(/^toolpath_analyzer_steps_dropped_total 48000$/m);
  }, 120_000);
});
