import type { ClosedSession } from '@toolpath/mining';
import { MAX_KEYS, type FlowFilter } from './flow-stats';
import { LearningStats, normaliseIntent, type LearningStatsState } from './learning-stats';
import { MAX_RECENT_SESSIONS } from './recent-sessions';
import { MAX_VARIANTS } from './variant-table';

const T0 = Date.UTC(2026, 5, 1, 12);
const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface Spec {
  tools: string[];
  start?: number;
  /** Gap before each call after the first (ms); default 100. */
  gap?: number;
  duration?: number;
  userId?: string;
  agentId?: string;
  intent?: string;
  success?: boolean;
}

let n = 0;
function session(p: Spec): ClosedSession {
  const start = p.start ?? T0;
  const duration = p.duration ?? 10;
  const gap = p.gap ?? 100;
  let t = start;
  const steps = p.tools.map((tool, i) => {
    if (i > 0) t += duration + gap;
    return { tool, success: true, durationMs: duration, startedAt: t };
  });
  return {
    tenantId: 't',
    sessionId: `s${n++}`,
    userId: p.userId,
    agentId: p.agentId,
    intent: p.intent,
    success: p.success,
    steps,
    startedAt: start,
    endedAt: t + duration,
    lastStreamSeq: n,
  };
}

/** The directly-follows graph counted the plain way, as pm4py's discover_dfg does. */
function reference(sessions: ClosedSession[]) {
  const edges = new Map<string, number>();
  const acts = new Map<string, number>();
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const s of sessions) {
    const tools = s.steps.map((x) => x.tool);
    if (tools.length === 0) continue;
    inc(starts, tools[0]);
    inc(ends, tools[tools.length - 1]);
    tools.forEach((t) => inc(acts, t));
    for (let i = 0; i + 1 < tools.length; i++) inc(edges, `${tools[i]}>${tools[i + 1]}`);
  }
  return { edges, acts, starts, ends };
}

function asMaps(view: ReturnType<LearningStats['flow']['flow']>) {
  return {
    edges: new Map(view.edges.map((e) => [`${e.from}>${e.to}`, e.count])),
    acts: new Map(view.activities.map((a) => [a.tool, a.count])),
    starts: new Map(view.starts.map((a) => [a.tool, a.count])),
    ends: new Map(view.ends.map((a) => [a.tool, a.count])),
  };
}

function feed(sessions: ClosedSession[]): LearningStats {
  const s = new LearningStats();
  for (const x of sessions) s.addSession(x);
  return s;
}

function roundTrip(s: LearningStats): LearningStats {
  return LearningStats.fromState(JSON.parse(JSON.stringify(s.toState())) as LearningStatsState);
}

/** A deterministic pseudo-random log with loops, repeats and several users/agents/intents. */
function randomLog(count: number, seed = 7): ClosedSession[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tools = ['register', 'check', 'decide', 'pay', 'reject', 'reinitiate', 'notify'];
  const out: ClosedSession[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(rnd() * 9);
    const seq = Array.from({ length: len }, () => tools[Math.floor(rnd() * tools.length)]);
    out.push(
      session({
        tools: seq,
        start: T0 - Math.floor(rnd() * 400) * DAY + Math.floor(rnd() * DAY),
        gap: Math.floor(rnd() * 5000),
        userId: `u${Math.floor(rnd() * 4)}`,
        agentId: rnd() < 0.5 ? 'a1' : undefined,
        intent: ['Pay an invoice', 'reject a CLAIM '][Math.floor(rnd() * 2)],
        success: rnd() < 0.8,
      }),
    );
  }
  return out;
}

describe('process map (FlowStats)', () => {
  it('counts the directly-follows graph as discover_dfg does: repeats, self-loops, starts and ends', () => {
    const log = [
      session({ tools: ['a', 'b', 'c'] }),
      session({ tools: ['a', 'b', 'b', 'b', 'c'] }),
      session({ tools: ['a', 'c', 'a', 'c'] }),
      session({ tools: ['b'] }),
      session({ tools: [] }),
    ];
    const view = feed(log).flow.flow({});
    expect(view.sessions).toBe(4);
    expect(view.edges.map((e) => [e.from, e.to, e.count])).toEqual([
      ['a', 'b', 2],
      ['a', 'c', 2],
      ['b', 'b', 2],
      ['b', 'c', 2],
      ['c', 'a', 1],
    ]);
    expect(view.starts).toEqual([
      { tool: 'a', count: 3 },
      { tool: 'b', count: 1 },
    ]);
    expect(view.ends).toEqual([
      { tool: 'c', count: 3 },
      { tool: 'b', count: 1 },
    ]);
    expect(view.activities).toEqual([
      { tool: 'b', count: 5 },
      { tool: 'a', count: 4 },
      { tool: 'c', count: 4 },
    ]);
    expect(view.basis).toEqual({ source: 'all', exact: true, from: null, to: null, notes: [] });
  });

  it('equals a plain count on a random log with loops', () => {
    const log = randomLog(3000);
    const got = asMaps(feed(log).flow.flow({}));
    expect(got).toEqual(reference(log));
  });

  it('measures gaps from the end of a call to the start of the next, floored at 0', () => {
    const overlap: ClosedSession = {
      ...session({ tools: ['x', 'y'] }),
      steps: [
        { tool: 'x', success: true, durationMs: 500, startedAt: T0 },
        { tool: 'y', success: true, durationMs: 10, startedAt: T0 + 100 },
      ],
    };
    const gaps = [100, 200, 300, 400, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 5000];
    const stats = feed([overlap, ...gaps.map((g) => session({ tools: ['a', 'b'], gap: g }))]);
    const view = stats.flow.flow({});
    const ab = view.edges.find((e) => e.from === 'a' && e.to === 'b')!;
    expect(ab.count).toBe(20);
    expect(ab.meanGapMs).toBeCloseTo(gaps.reduce((a, b) => a + b, 0) / gaps.length, 6);
    // Nearest rank: the 19th of 20 sorted gaps is 1000; the sketch is within 2 %.
    expect(Math.abs(ab.p95GapMs - 1000) / 1000).toBeLessThan(0.02);
    expect(view.edges.find((e) => e.from === 'x')).toMatchObject({ to: 'y', count: 1, meanGapMs: 0, p95GapMs: 0 });
  });

  it('survives the snapshot round trip, and counting on after it equals counting all at once', () => {
    const log = randomLog(1200, 11);
    const once = feed(log);
    const half = feed(log.slice(0, 600));
    const restored = roundTrip(half);
    for (const s of log.slice(600)) restored.addSession(s);
    const again = roundTrip(restored);
    for (const q of [{}, { userId: 'u1' }, { agentId: 'a1' }, { intent: 'pay an invoice' }, { from: T0 - 30 * DAY }, { userId: 'u2', from: T0 - 100 * DAY, to: T0 - 10 * DAY }]) {
      expect(again.flow.flow(q)).toEqual(once.flow.flow(q));
      expect(again.flow.variants({ ...q, limit: 500 })).toEqual(once.flow.variants({ ...q, limit: 500 }));
    }
  });

  it('state written before the process map existed says what it has not seen', () => {
    const old = feed(randomLog(10));
    const state = old.toState();
    delete state.flow;
    const loaded = LearningStats.fromState(JSON.parse(JSON.stringify(state)) as LearningStatsState);
    loaded.addSession(session({ tools: ['a', 'b'] }));
    const view = loaded.flow.flow({});
    expect(view.sessions).toBe(1);
    expect(view.basis.exact).toBe(false);
    expect(view.basis.notes.join(' ')).toMatch(/10 sessions were counted before/);
  });

  it('serves user, agent and intent filters from their aggregates, and combinations from the recent sessions, exactly', () => {
    const log = randomLog(2000, 3);
    const stats = feed(log);
    const cases: Array<[Record<string, string | number>, (s: ClosedSession) => boolean, string]> = [
      [{ userId: 'u1' }, (s) => s.userId === 'u1', 'user'],
      [{ agentId: 'a1' }, (s) => s.agentId === 'a1', 'agent'],
      // Intents are matched normalised, as the intent statistics count them.
      [{ intent: '  Reject a claim' }, (s) => s.intent === 'reject a CLAIM ', 'intent'],
      [{ userId: 'u3', agentId: 'a1' }, (s) => s.userId === 'u3' && s.agentId === 'a1', 'recent-sessions'],
      [{ from: T0 - 50 * DAY, to: T0 - 20 * DAY + 17 }, (s) => s.startedAt >= T0 - 50 * DAY && s.startedAt < T0 - 20 * DAY + 17, 'recent-sessions'],
      [{ userId: 'u0', intent: 'pay an invoice', from: T0 - 200 * DAY }, (s) => s.userId === 'u0' && s.intent === 'Pay an invoice' && s.startedAt >= T0 - 200 * DAY, 'recent-sessions'],
    ];
    for (const [q, keep, source] of cases) {
      const view = stats.flow.flow(normalised(q));
      const want = log.filter(keep);
      expect(want.length).toBeGreaterThan(20);
      expect(view.sessions).toBe(want.length);
      expect(asMaps(view)).toEqual(reference(want));
      expect(view.basis).toMatchObject({ source, exact: true, notes: [] });
    }
    expect(stats.flow.flow({ userId: 'nobody' })).toMatchObject({ sessions: 0, edges: [], basis: { source: 'user', exact: true } });
  });

  it('serves an untracked user by a scan, and says so when older sessions were let go', () => {
    const log: ClosedSession[] = [];
    for (let i = 0; i < MAX_KEYS.user; i++) log.push(session({ tools: ['a', 'b'], userId: `early${i}` }));
    // Sessions of `late` arrive after the per-user aggregates are all taken.
    for (let i = 0; i < 30; i++) log.push(session({ tools: ['x', 'y', 'x'], userId: 'late', start: T0 + i }));
    const stats = feed(log);
    expect(stats.flow.flow({ userId: 'late' })).toMatchObject({ sessions: 30, edges: [{ from: 'x', to: 'y', count: 30 }, { from: 'y', to: 'x', count: 30 }], basis: { source: 'recent-sessions', exact: true } });
    // Push the early sessions of `late` out of the recent window.
    for (let i = 0; i < MAX_RECENT_SESSIONS; i++) stats.addSession(session({ tools: ['c'], userId: 'other', start: T0 + DAY }));
    stats.addSession(session({ tools: ['x', 'y'], userId: 'late', start: T0 + 2 * DAY }));
    const view = stats.flow.flow({ userId: 'late' });
    expect(view.sessions).toBe(1);
    expect(view.basis.exact).toBe(false);
    expect(view.basis.notes[0]).toMatch(/most recently closed sessions only/);
    // A recent enough time range is still exact.
    expect(stats.flow.flow({ userId: 'late', from: T0 + DAY + 1 })).toMatchObject({ sessions: 1, basis: { exact: true } });
  });

  it('serves old time ranges from time buckets, widened to whole buckets and flagged', () => {
    const log: ClosedSession[] = [];
    // Three years of one session a day, then enough recent ones to push the old ones out of the window.
    for (let d = 0; d < 3 * 365; d++) log.push(session({ tools: ['a', d % 2 ? 'b' : 'c'], start: T0 - 4 * 365 * DAY + d * DAY + 5 * HOUR }));
    for (let i = 0; i < MAX_RECENT_SESSIONS; i++) log.push(session({ tools: ['z'], start: T0 + (i % 1000) }));
    const stats = feed(log);
    const all = stats.flow.flow({ from: 0 });
    expect(all.basis).toMatchObject({ source: 'time-buckets', exact: true });
    expect(all.sessions).toBe(log.length);
    // A range on day boundaries inside the "days" period is exact; it is not on month boundaries further back.
    const y1 = Date.UTC(2023, 0, 1);
    const y2 = Date.UTC(2024, 0, 1);
    const inYear = stats.flow.flow({ from: y1, to: y2 });
    const want = log.filter((s) => s.startedAt >= y1 && s.startedAt < y2);
    expect(inYear.sessions).toBe(want.length);
    expect(inYear.basis).toMatchObject({ source: 'time-buckets', exact: true, from: '2023-01-01T00:00:00.000Z', to: '2024-01-01T00:00:00.000Z' });
    const mid = stats.flow.flow({ from: Date.UTC(2023, 3, 10), to: Date.UTC(2023, 3, 20) });
    expect(mid.basis).toMatchObject({ exact: false, from: '2023-01-01T00:00:00.000Z', to: '2024-01-01T00:00:00.000Z' });
    expect(mid.basis.notes[0]).toMatch(/widened/);
    expect(mid.sessions).toBe(want.length);
    // Bounded: hours, ~2 months of days, ~2 years of months, then years.
    const buckets = (stats.toState().flow as { time: { b: unknown[] } }).time.b.length;
    expect(buckets).toBeLessThanOrEqual(48 + 92 + 36 + 5);
  });

  it('keeps time buckets right when sessions close out of time order', () => {
    const log = randomLog(3000, 5);
    // Shuffle (deterministically): a session that started long ago may close after newer ones.
    const shuffled = log.map((s, i) => [(i * 7919) % 3001, s] as const).sort((a, b) => a[0] - b[0]).map(([, s]) => s);
    const stats = feed(shuffled);
    for (let i = 0; i < MAX_RECENT_SESSIONS; i++) stats.addSession(session({ tools: ['z'], start: T0 + DAY + i }));
    const restored = roundTrip(stats);
    for (const [from, to] of [
      [0, T0 + 2 * DAY],
      [Date.UTC(2025, 6, 1), Date.UTC(2025, 8, 1)],
      [Date.UTC(2026, 3, 1), Date.UTC(2026, 4, 17)],
    ]) {
      const view = restored.flow.flow({ from, to });
      const want = [...log, ...Array.from({ length: MAX_RECENT_SESSIONS }, (_, i) => session({ tools: ['z'], start: T0 + DAY + i }))].filter((s) => s.startedAt >= from && s.startedAt < to);
      expect(view.basis).toMatchObject({ source: 'time-buckets', exact: true });
      expect(view.sessions).toBe(want.length);
      expect(asMaps(view)).toEqual(reference(want));
    }
  });

  it('lists variants with counts and success rates, most frequent first, page by page', () => {
    const log = [
      ...Array.from({ length: 5 }, (_, i) => session({ tools: ['a', 'b', 'c'], success: i < 4, userId: 'ann' })),
      ...Array.from({ length: 3 }, () => session({ tools: ['a', 'c'], success: false, userId: 'bob' })),
      ...Array.from({ length: 3 }, () => session({ tools: ['a', 'b', 'b', 'c'], userId: 'ann' })),
      session({ tools: ['d'], userId: 'bob' }),
    ];
    const stats = feed(log);
    const page1 = stats.flow.variants({ limit: 2 });
    expect(page1.sessions).toBe(12);
    expect(page1.items.map((v) => [v.tools.join(','), v.count, v.successful, v.successRate])).toEqual([
      ['a,b,c', 5, 4, 0.8],
      [expect.any(String), 3, expect.any(Number), expect.any(Number)],
    ]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = stats.flow.variants({ limit: 2, cursor: page1.nextCursor! });
    expect(page2.nextCursor).toBeNull();
    const all = [...page1.items, ...page2.items];
    expect(all.map((v) => v.tools.join(',')).sort()).toEqual(['a,b,b,c', 'a,b,c', 'a,c', 'd']);
    expect(all.find((v) => v.tools.join(',') === 'a,c')).toMatchObject({ count: 3, successful: 0, failed: 3, successRate: 0, share: 0.25, length: 2, exact: true });
    expect(stats.flow.variants({ limit: 10, userId: 'bob' }).items.map((v) => [v.tools.join(','), v.count])).toEqual([
      ['a,c', 3],
      ['d', 1],
    ]);
    expect(() => stats.flow.variants({ limit: 2, cursor: 'garbage' })).toThrow(/cursor is not one this API issued/);
  });

  it('bounds the variant table and counts the sessions of the variants cut', () => {
    const stats = new LearningStats();
    for (let i = 0; i < 50; i++) stats.addSession(session({ tools: ['main', 'path'] }));
    for (let i = 0; i < 2 * MAX_VARIANTS + 10; i++) stats.addSession(session({ tools: ['rare', `t${i}`] }));
    const page = stats.flow.variants({ limit: 1 });
    expect(page.items[0]).toMatchObject({ tools: ['main', 'path'], count: 50, exact: true });
    expect(page.sessions).toBe(50 + 2 * MAX_VARIANTS + 10);
    expect(page.otherSessions).toBeGreaterThan(0);
    expect(page.basis.exact).toBe(false);
    expect(roundTrip(stats).flow.variants({ limit: 1 })).toEqual(page);
  });
  it('keeps an answer under the NATS payload bound, saying what it left out', () => {
    const long = (i: number) => `tool-${i}-${'x'.repeat(150)}`;
    const stats = new LearningStats();
    for (let i = 0; i < 3000; i++) stats.addSession(session({ tools: [long(i), long(i + 1)] }));
    const view = stats.flow.flow({});
    expect(view.edges.length).toBeLessThan(3000);
    expect(view.edges.length).toBeGreaterThan(100);
    expect(view.activities.length).toBeLessThan(3001);
    expect(Buffer.byteLength(JSON.stringify(view))).toBeLessThan(1024 * 1024);
    expect(view.basis.exact).toBe(false);
    expect(view.basis.notes.join(' ')).toMatch(new RegExp(`the ${3000 - view.edges.length} least frequent of 3000 edges were left out`));
    expect(view.basis.notes.join(' ')).toMatch(new RegExp(`the ${3001 - view.activities.length} least frequent of 3001 activities were left out`));

    // Long variants: pages get shorter, the cursor still walks through all of them.
    const variants = new LearningStats();
    for (let i = 0; i < 60; i++) variants.addSession(session({ tools: Array.from({ length: 100 }, (_, k) => long(i * 1000 + k)) }));
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 60; page++) {
      const got = variants.flow.variants({ limit: 200, cursor });
      expect(got.items.length).toBeLessThan(60);
      expect(Buffer.byteLength(JSON.stringify(got))).toBeLessThan(1024 * 1024);
      for (const v of got.items) seen.add(v.variantId);
      if (!got.nextCursor) break;
      cursor = got.nextCursor;
    }
    expect(seen.size).toBe(60);
  });
});

function normalised(q: Record<string, string | number>): FlowFilter {
  // The service normalises the intent before asking (as LearningStatsService does).
  return { ...q, intent: typeof q.intent === 'string' ? normaliseIntent(q.intent) : undefined };
}
