import { AckPolicy, DeliverPolicy } from 'nats';
import { waitFor, type ServiceProcess } from '@toolpath/testing';
import type { AnalyzerRunView } from '@toolpath/contracts';
import { AnalyzerHarness, plantedSessions } from './analyzer-harness';

const REVIEW = ['github.get_pr', 'github.get_diff', 'slack.post'];
const TRIAGE = ['jira.search', 'jira.get', 'jira.comment'];
const NIGHTLY = ['db.backup', 'db.verify', 's3.upload'];

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('analyzer: stream → runs → patterns (one analyzer, one recorder)', () => {
  let h: AnalyzerHarness;
  let analyzer: ServiceProcess;
  const support = async (tenantId: string, tools: string[]) => (await h.patterns(tenantId)).find((p) => same(p.tools, tools))?.support;

  beforeAll(async () => {
    h = await AnalyzerHarness.open('an');
    await h.startRecorder();
    analyzer = await h.startAnalyzer({ ANALYZER_SESSION_IDLE_MS: '1500' });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('mines events published with the SDK into patterns, definitions, examples and statistics', async () => {
    const published =
      (await h.publish('acme', plantedSessions('rev', 6, REVIEW, { intent: 'Review a pull request', userId: 'ann' }))) +
      (await h.publish('acme', plantedSessions('tri', 4, TRIAGE, { intent: 'triage a bug', success: false })));
    const run = await h.run('acme');
    expect(run).toMatchObject({ mode: 'incremental', trigger: 'request', status: 'completed', eventsRead: published, invalidEvents: 0, alreadyCounted: 0 });
    expect(run.tenant).toMatchObject({ events: published, sessionsClosed: 10 });
    expect(run.tenant.patterns).toBeGreaterThanOrEqual(2);

    const patterns = await h.patterns('acme');
    const review = patterns.find((p) => same(p.tools, REVIEW))!;
    expect(review).toMatchObject({ support: 6, successRate: 1 });
    expect(patterns.find((p) => same(p.tools, TRIAGE))).toMatchObject({ support: 4, successRate: 0 });
    // The unrelated call between the first two steps did not hide the sequence, and is not a pattern of its own.
    expect(patterns.every((p) => p.tools.every((t) => !t.startsWith('noise.')))).toBe(true);

    const detail = await h.value('getPattern', { tenantId: 'acme', patternId: review.id, examples: 2 });
    expect(detail.workflow).toMatchObject({ source: 'learned' });
    expect(detail.workflow.steps.map((s: { tool: string }) => s.tool).sort()).toEqual([...REVIEW].sort());
    expect(detail.examples).toHaveLength(2);
    expect(detail.examples[0].steps.map((s: { tool: string }) => s.tool)).toEqual(REVIEW);
    expect(detail.intents[0].text.toLowerCase()).toBe('review a pull request');

    const row = await h.db.collection('patterns').findOne({ _id: `acme:${review.id}` as never });
    expect(row).toMatchObject({ tenantId: 'acme', support: 6, tools: REVIEW, definition: { source: 'learned' } });

    const intents = await h.value('intentStats', { tenantId: 'acme' });
    expect(intents.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ intent: 'review a pull request', total: 6, successful: 6, failed: 0, successRate: 1, topPatternIds: [review.id] }),
        expect.objectContaining({ intent: 'triage a bug', total: 4, successful: 0, failed: 4, successRate: 0 }),
      ]),
    );
    const stats = await h.value('patternStats', { tenantId: 'acme' });
    expect(stats.items.find((s: { patternId: string }) => s.patternId === review.id)).toMatchObject({ total: 6, successful: 6, failed: 0 });
    const health = await h.value('health', { tenantId: 'acme' });
    expect(health.totals).toMatchObject({ sessions: 10, successful: 6, failed: 4, openSessions: 0 });
    expect(health.last24h.sessions).toBe(10);
    expect(health.topCandidates.map((c: { patternId: string }) => c.patternId)).toContain(review.id);
    expect(health.lastRun.id).toBe(run.id);
    expect(health.watermark).toBe(published);

    const latest = await h.value('getRun', { tenantId: 'acme', runId: 'latest' });
    expect(latest).toMatchObject({ id: run.id, status: 'completed' });
  }, 120_000);

  it('reads only the new events on the next run', async () => {
    const before = await h.consumerInfo();
    const added = await h.publish('acme', plantedSessions('rev2', 4, REVIEW, { intent: 'review a pull request' }));
    const run = await h.run('acme');
    expect(run.eventsRead).toBe(added);
    expect(run.tenant).toMatchObject({ events: added, sessionsClosed: 4 });
    expect(await support('acme', REVIEW)).toBe(10);
    const after = await h.consumerInfo();
    expect(after.ack_floor.stream_seq).toBe(before.ack_floor.stream_seq + added);
    // An idle run reads nothing.
    expect((await h.run('acme')).eventsRead).toBe(0);
  }, 120_000);

  it('skips redelivered events it already counted (state persisted, acknowledgement lost)', async () => {
    // As if every acknowledgement had been lost: the consumer starts over from the first message.
    const jsm = await h.nc.jetstreamManager();
    const info = await h.consumerInfo();
    await jsm.consumers.delete(h.names.stream, 'analyzer');
    const { opt_start_seq: _start, ...config } = info.config;
    await jsm.consumers.add(h.names.stream, { ...config, deliver_policy: DeliverPolicy.All, ack_policy: AckPolicy.All });
    const total = (await jsm.streams.info(h.names.stream)).state.messages;
    const run = await h.run('acme');
    expect(run.eventsRead).toBe(total);
    expect(run.alreadyCounted).toBe(total);
    expect(run.tenant.sessionsClosed).toBe(0);
    expect(await support('acme', REVIEW)).toBe(10);
    expect(await support('acme', TRIAGE)).toBe(4);
  }, 120_000);

  it('re-reads in order the messages a run took and never acknowledged (it died)', async () => {
    const added = await h.publish('acme', plantedSessions('rev3', 3, REVIEW));
    // A run that died after taking the messages: delivered, never acknowledged.
    const consumer = await h.nc.jetstream().consumers.get(h.names.stream, 'analyzer');
    const taken = await consumer.fetch({ max_messages: added, expires: 2000 });
    let n = 0;
    for await (const _ of taken) n++;
    expect(n).toBe(added);
    const run = await h.run('acme');
    expect(run).toMatchObject({ eventsRead: added, alreadyCounted: 0 });
    expect(run.tenant.sessionsClosed).toBe(3);
    expect(await support('acme', REVIEW)).toBe(13);
  }, 120_000);

  it('skips and counts invalid messages', async () => {
    await h.publishRaw('acme', 'not json at all');
    await h.publishRaw('acme', JSON.stringify({ specVersion: '1', kind: 'tool_call', eventId: 'bad-1', tenantId: 'acme', sessionId: 's', success: true }));
    await h.publishRaw('acme', JSON.stringify({ specVersion: '1', kind: 'tool_call', eventId: 'bad-2', tenantId: 'globex', sessionId: 's', tool: 't', success: true, startedAt: 0, durationMs: 1 }));
    const run = await h.run('acme');
    expect(run).toMatchObject({ eventsRead: 3, invalidEvents: 3 });
    expect(await support('acme', REVIEW)).toBe(13);
  }, 60_000);

  it('keeps tenants apart in every answer', async () => {
    const globexEvents = await h.publish('globex', plantedSessions('g', 3, TRIAGE, { intent: 'triage a bug' }));
    const run = await h.run('globex');
    expect(run.tenant).toMatchObject({ sessionsClosed: 3 });
    expect(run.eventsRead).toBe(globexEvents);
    // The same run seen by acme: none of globex's figures.
    const seenByAcme = await h.value<AnalyzerRunView>('getRun', { tenantId: 'acme', runId: run.id });
    expect(seenByAcme).toMatchObject({ id: run.id, eventsRead: 0, invalidEvents: 0, alreadyCounted: 0, tenant: { events: 0, sessionsClosed: 0 } });
    const globex = await h.patterns('globex');
    const acme = await h.patterns('acme');
    expect(globex.find((p) => same(p.tools, TRIAGE))?.support).toBe(3);
    expect(acme.find((p) => same(p.tools, TRIAGE))?.support).toBe(4);
    expect(globex.some((p) => same(p.tools, REVIEW))).toBe(false);
    // The same tools make a different pattern id per tenant, and one tenant cannot read another's.
    const globexTriage = globex.find((p) => same(p.tools, TRIAGE))!;
    expect(acme.map((p) => p.id)).not.toContain(globexTriage.id);
    const cross = await h.ask('getPattern', { tenantId: 'acme', patternId: globexTriage.id });
    expect(cross).toMatchObject({ ok: false, error: { status: 404 } });
    // The run's figures for acme hold acme's share only (it had no new events).
    const acmeView = await h.value('getRun', { tenantId: 'acme', runId: run.id });
    expect(acmeView.tenant.events).toBe(0);
    const suggestions = await h.value('suggest', { tenantId: 'acme', intent: 'triage a bug' });
    expect(suggestions.items.map((s: { patternId?: string }) => s.patternId)).not.toContain(globexTriage.id);
    expect((await h.value('health', { tenantId: 'globex' })).totals.sessions).toBe(3);
  }, 60_000);

  it('closes sessions without a session_end once their tenant has been quiet for the idle window', async () => {
    await h.publish('quiet', plantedSessions('n', 3, NIGHTLY, { open: true }));
    const first = await h.run('quiet');
    expect(first.tenant).toMatchObject({ sessionsClosed: 0 });
    expect((await h.value('health', { tenantId: 'quiet' })).totals.openSessions).toBe(3);
    await new Promise((r) => setTimeout(r, 1700));
    const second = await h.run('quiet');
    expect(second.tenant).toMatchObject({ events: 0, sessionsClosed: 3 });
    expect(await support('quiet', NIGHTLY)).toBe(3);
  }, 60_000);

  it('rebuilds a tenant from the store (full run) to the same counts, and goes on incrementally', async () => {
    await waitFor(() => h.allRecorded(), { what: 'the recorder to store every event' });
    const before = await h.patterns('acme');
    const full = await h.run('acme', 'full');
    expect(full.mode).toBe('full');
    expect(full.tenant.sessionsClosed).toBe(17);
    const after = await h.patterns('acme');
    expect(after.map((p) => [p.id, p.support]).sort()).toEqual(before.map((p) => [p.id, p.support]).sort());
    // Only the tenant that asked sees its rebuild.
    expect(await h.ask('getRun', { tenantId: 'globex', runId: full.id })).toMatchObject({ ok: false, error: { status: 404 } });
    expect((await h.value('getRun', { tenantId: 'acme', runId: 'latest' })).id).toBe(full.id);
    await h.publish('acme', plantedSessions('rev4', 2, REVIEW));
    await h.run('acme');
    expect(await support('acme', REVIEW)).toBe(15);
  }, 120_000);

  it('answers bad requests with 400 naming the field', async () => {
    expect(await h.ask('listPatterns', { tenantId: 'acme', sort: 'nope' })).toMatchObject({ ok: false, error: { status: 400 } });
    expect(await h.ask('listPatterns', { tenantId: 'acme', cursor: 'garbage' })).toMatchObject({ ok: false, error: { status: 400, details: [{ field: 'cursor' }] } });
    expect(await h.ask('getPattern', { tenantId: 'ac.me', patternId: 'x' })).toMatchObject({ ok: false, error: { status: 400, details: [{ field: 'tenantId' }] } });
    expect(analyzer.output()).not.toMatch(/"level":50/);
  });
});

describe('analyzer: crashes and concurrency', () => {
  let h: AnalyzerHarness;

  beforeEach(async () => {
    h = await AnalyzerHarness.open('anc');
  });

  afterEach(async () => {
    await h?.close();
  });

  it('counts every session exactly once across a kill -9 in the middle of a run', async () => {
    const sessions = 2000;
    const published = await h.publish('acme', plantedSessions('k', sessions, REVIEW));
    const env = { ANALYZER_PERSIST_EVERY: '200', ANALYZER_FETCH_BATCH: '100', LOG_LEVEL: 'info' };
    const first = await h.startAnalyzer(env);
    const started = await h.value('run', { tenantId: 'acme', waitMs: 0 });
    expect(started.status).toBe('running');
    await h.waitForLog(first, 'events read');
    await first.kill9();
    const second = await h.startAnalyzer(env);
    // The dead run's lock expires after ANALYZER_LOCK_TTL_MS; the request waits for it.
    const run = await h.run('acme');
    expect(run.eventsRead).toBeGreaterThan(0);
    expect(run.eventsRead).toBeLessThanOrEqual(published);
    const health = await h.value('health', { tenantId: 'acme' });
    expect(health.totals).toMatchObject({ sessions, openSessions: 0 });
    expect(health.watermark).toBe(published);
    const review = (await h.patterns('acme')).find((p) => same(p.tools, REVIEW));
    expect(review?.support).toBe(sessions);
    expect(second.output()).toMatch(/re-reading from|events read/);
  }, 180_000);

  it('lets two scheduled analyzers make one run at a time', async () => {
    const env = { ANALYZER_SCHEDULE: '* * * * * *' };
    const a = await h.startAnalyzer(env);
    const b = await h.startAnalyzer(env);
    await h.publish('acme', plantedSessions('s', 50, REVIEW));
    await waitFor(async () => (await h.value('health', { tenantId: 'acme' })).totals.sessions === 50, { timeoutMs: 30_000, what: 'a scheduled run' });
    await h.publish('acme', plantedSessions('t', 30, REVIEW));
    await waitFor(async () => (await h.value('health', { tenantId: 'acme' })).totals.sessions === 80, { timeoutMs: 30_000, what: 'another scheduled run' });
    await new Promise((r) => setTimeout(r, 3000));
    const runs = (await h.db.collection('analyzer_runs').find({ mode: 'incremental' }).toArray()) as unknown as Array<{ startedAt: Date; endedAt: Date | null; status: string }>;
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const spans = runs.filter((r) => r.endedAt).map((r) => [r.startedAt.getTime(), r.endedAt!.getTime()]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    const busy = async (p: ServiceProcess) => {
      const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
      return Number(/^toolpath_analyzer_lock_busy_total (\d+)/m.exec(text)?.[1] ?? 0);
    };
    expect((await busy(a)) + (await busy(b))).toBeGreaterThan(0);
    expect((await h.patterns('acme')).find((p) => same(p.tools, REVIEW))?.support).toBe(80);
    expect((await h.value('health', { tenantId: 'acme' })).totals.sessions).toBe(80);
  }, 120_000);
});
