import type { FlowStatsView, ToolEventInput } from '@toolpath/contracts';
import { waitFor } from '@toolpath/testing';
import { AnalyzerHarness } from './analyzer-harness';

/**
 * Sessions are exact whatever the run steps: a historical log (1,000 cases, 6,000 events, spread
 * over days, some with a two-day gap, published one case after the other as the log importer
 * does) must give one session per case, and the same directly-follows graph, at a step of 50
 * events, at the default step, and in a full rebuild from the store (more rows than one rebuild
 * batch; half the session_ends carry the case's start time, as producers used to send them).
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.UTC(2005, 0, 3);
const CASES = 1000;
const TEMPLATES = [
  ['receive', 'check', 'decide', 'notify'],
  ['receive', 'check', 'check', 'decide', 'archive'],
  ['receive', 'decide', 'notify', 'pay', 'archive'],
  ['receive', 'check', 'escalate', 'check', 'decide', 'notify', 'archive'],
];

interface Case {
  id: string;
  tools: string[];
}

/** Case k starts k × 3 h after the first; its steps are 10 min apart, except a two-day gap in one case of three. */
function historicalLog(): { cases: Case[]; events: ToolEventInput[] } {
  const cases: Case[] = [];
  const events: ToolEventInput[] = [];
  for (let k = 0; k < CASES; k++) {
    const id = `case-${k}`;
    const tools = TEMPLATES[(k * 7 + Math.floor(k / 5)) % TEMPLATES.length];
    const t0 = BASE + k * 3 * HOUR;
    let t = t0;
    tools.forEach((tool, i) => {
      if (i > 0) t += k % 3 === 0 && i === 2 ? 2 * DAY : 10 * 60_000;
      events.push({ kind: 'tool_call', sessionId: id, seq: i, tool, success: true, startedAt: t, durationMs: 1000 });
    });
    const end = k % 2 === 0 ? { startedAt: t0, durationMs: t + 1000 - t0 } : { startedAt: t + 1000, durationMs: 0 };
    events.push({ kind: 'session_end', sessionId: id, seq: tools.length, success: true, ...end });
    cases.push({ id, tools });
  }
  return { cases, events };
}

type Counts = Record<string, number>;
const add = (m: Counts, k: string) => (m[k] = (m[k] ?? 0) + 1);

function expectedFlow(cases: Case[]): { sessions: number; edges: Counts; starts: Counts; ends: Counts } {
  const edges: Counts = {};
  const starts: Counts = {};
  const ends: Counts = {};
  for (const c of cases) {
    add(starts, c.tools[0]);
    add(ends, c.tools[c.tools.length - 1]);
    for (let i = 0; i + 1 < c.tools.length; i++) add(edges, `${c.tools[i]} > ${c.tools[i + 1]}`);
  }
  return { sessions: cases.length, edges, starts, ends };
}

function flowCounts(f: FlowStatsView): { sessions: number; edges: Counts; starts: Counts; ends: Counts } {
  const byTool = (xs: Array<{ tool: string; count: number }>) => Object.fromEntries(xs.map((x) => [x.tool, x.count]));
  return { sessions: f.sessions, edges: Object.fromEntries(f.edges.map((e) => [`${e.from} > ${e.to}`, e.count])), starts: byTool(f.starts), ends: byTool(f.ends) };
}

describe('analyzer: sessions are exact at any step size, incremental or rebuilt', () => {
  const log = historicalLog();
  const expected = expectedFlow(log.cases);
  let small: AnalyzerHarness;
  let large: AnalyzerHarness;

  beforeAll(async () => {
    small = await AnalyzerHarness.open('ses');
    large = await AnalyzerHarness.open('sel');
    await small.startRecorder();
    // Steps of 50 events pulled 20 at a time: most cases straddle a step.
    await small.startAnalyzer({ ANALYZER_PERSIST_EVERY: '50', ANALYZER_FETCH_BATCH: '20' });
    await large.startAnalyzer({ ANALYZER_SESSION_END_GRACE_MS: '1000' });
    await small.publishEvents('hist', log.events);
    await large.publishEvents('hist', log.events);
  }, 120_000);

  afterAll(async () => {
    await small?.close();
    await large?.close();
  });

  it('keeps a case with a two-day gap, cut by run steps of 50 events, as one session', async () => {
    const run = await small.run('hist');
    expect(run.eventsRead).toBe(log.events.length);
    expect(run.tenant).toMatchObject({ events: log.events.length, sessionsClosed: CASES });
    const health = await small.value('health', { tenantId: 'hist' });
    expect(health.totals).toMatchObject({ sessions: CASES, openSessions: 0 });
    expect(flowCounts(await small.value<FlowStatsView>('flowStats', { tenantId: 'hist' }))).toEqual(expected);
  }, 120_000);

  it('gives the same sessions at the default step, ended sessions closing once the server time passes their grace', async () => {
    // Every session_end arrived at least the grace before the run starts: the server's time vouches for it.
    await new Promise((r) => setTimeout(r, 1200));
    const run = await large.run('hist');
    expect(run.tenant).toMatchObject({ events: log.events.length, sessionsClosed: CASES });
    expect(flowCounts(await large.value<FlowStatsView>('flowStats', { tenantId: 'hist' }))).toEqual(expected);
  }, 120_000);

  it('rebuilds the same sessions from the store, session_ends stamped with the case start included', async () => {
    await waitFor(() => small.allRecorded(), { timeoutMs: 60_000, what: 'the recorder to store every event' });
    const full = await small.run('hist', 'full');
    expect(full.tenant.sessionsClosed).toBe(CASES);
    expect((await small.value('health', { tenantId: 'hist' })).totals).toMatchObject({ sessions: CASES, openSessions: 0 });
    expect(flowCounts(await small.value<FlowStatsView>('flowStats', { tenantId: 'hist' }))).toEqual(expected);
  }, 180_000);

  it('stores the stream timestamp as receivedAt, the arrival the rebuild closes sessions on', async () => {
    const rows = await small.db.collection('tool_events').find({ tenantId: 'hist' }).sort({ streamSeq: 1 }).limit(5).toArray();
    const jsm = await small.nc.jetstreamManager();
    for (const row of rows) {
      const msg = await jsm.streams.getMessage(small.names.stream, { seq: row.streamSeq as number });
      // Whole milliseconds of the same timestamp (the ISO text and the nanosecond number may round apart by 1 ms).
      expect(Math.abs((row.receivedAt as Date).getTime() - Date.parse(msg.timestamp))).toBeLessThanOrEqual(1);
    }
  }, 60_000);
});
