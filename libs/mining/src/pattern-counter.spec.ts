import type { ClosedSession, SessionStep } from './mining-types';
import { PatternCounter } from './pattern-counter';
import { predictNextSteps } from './predict-next-steps';

let clock = 0;
const step = (tool: string, over: Partial<SessionStep> = {}): SessionStep => ({ tool, success: true, durationMs: 10, startedAt: clock++, ...over });
let sid = 0;
const session = (tools: Array<string | SessionStep>, over: Partial<ClosedSession> = {}): ClosedSession => ({
  tenantId: 'acme',
  sessionId: `s${++sid}`,
  steps: tools.map((t) => (typeof t === 'string' ? step(t) : t)),
  startedAt: clock,
  endedAt: clock + 100,
  lastStreamSeq: sid,
  ...over,
});
const toolsOf = (c: PatternCounter, filter = {}): string[] => c.patterns(filter).map((p) => p.tools.join(' '));

/** Deterministic shuffle (LCG) for order-invariance checks. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('PatternCounter', () => {
  it('finds a sequence with unrelated calls interleaved (up to maxGap), counting distinct sessions', () => {
    const c = new PatternCounter({ minSupport: 3 });
    c.addSession(session(['a', 'x', 'b', 'y', 'z', 'c']));
    c.addSession(session(['q', 'a', 'b', 'w', 'c', 'a', 'b', 'c']));
    c.addSession(session(['a', 'n1', 'n2', 'b', 'c']));
    c.addSession(session(['a', 'n1', 'n2', 'n3', 'b', 'c'])); // gap 3 > maxGap 2: not an occurrence
    const [p] = c.patterns();
    expect(p.tools).toEqual(['a', 'b', 'c']);
    expect(p.support).toBe(3);
    expect(c.patterns({ minSupport: 4 })).toEqual([]);
  });

  it('lists closed patterns only: a sub-pattern with the support of a longer one is dropped', () => {
    const c = new PatternCounter({ minSupport: 2 });
    for (let i = 0; i < 3; i++) c.addSession(session(['a', 'b', 'c', 'd']));
    c.addSession(session(['a', 'b', 'c'])); // a b c has more support than a b c d: listed too
    expect(toolsOf(c).sort()).toEqual(['a b c', 'a b c d']);
    const byTools = new Map(c.patterns().map((p) => [p.tools.join(' '), p.support]));
    expect(byTools.get('a b c d')).toBe(3);
    expect(byTools.get('a b c')).toBe(4);
    // b c d and a c d have the support of a b c d: not listed.
    expect(toolsOf(c, { closedTolerance: 0.5 })).toEqual(['a b c d']);
  });

  it('merges order variants (independent steps seen in both orders) into one listing', () => {
    const c = new PatternCounter({ minSupport: 2 });
    for (let i = 0; i < 3; i++) c.addSession(session(['a', 'b', 'c', 'd']));
    for (let i = 0; i < 3; i++) c.addSession(session(['a', 'c', 'b', 'd']));
    const merged = c.patterns();
    expect(merged.map((p) => p.tools.join(' '))).toEqual(['a b c d']);
    expect(merged[0].variantIds).toHaveLength(1);
    expect(c.pattern(merged[0].variantIds[0])?.tools).toEqual(['a', 'c', 'b', 'd']);
    expect(toolsOf(c, { mergeVariants: false }).sort()).toEqual(['a b c d', 'a c b d']);
    const occ = c.occurrences(merged[0].id);
    expect(occ).toHaveLength(6);
    expect(new Set(occ.map((o) => o.patternId)).size).toBe(2);
    expect(c.occurrences(merged[0].id, { withVariants: false })).toHaveLength(3);
  });

  it('computes statistics: success rates, durations, confidence, intents, users and agents', () => {
    const c = new PatternCounter({ minSupport: 2 });
    c.addSession(session([step('a', { durationMs: 100 }), step('b', { durationMs: 100 }), step('c', { durationMs: 100 })], { success: true, ended: true, intent: 'ship it', userId: 'u1', agentId: 'g1' }));
    c.addSession(session([step('a', { durationMs: 200 }), step('b', { success: false, durationMs: 200 }), step('c', { durationMs: 200 })], { success: false, ended: true, intent: 'ship it', userId: 'u2', agentId: 'g1' }));
    c.addSession(session([step('a'), step('b'), step('c')], { userId: 'u1', intent: 'other' }));
    const [p] = c.patterns();
    expect(p.support).toBe(3);
    expect(p.stepSuccessRate).toBeCloseTo(8 / 9);
    expect(p.sessionSuccessRate).toBe(0.5);
    expect(p.endedSessions).toBe(2);
    expect(p.successRate).toBe(0.5);
    expect(p.score).toBe(1.5);
    expect(p.confidence).toBeGreaterThan(0);
    expect(p.confidence).toBeLessThan(0.5);
    expect(p.meanDurationMs).toBeCloseTo(310, 0);
    expect(p.p95DurationMs).toBeGreaterThan(550);
    expect(p.p95DurationMs).toBeLessThan(650);
    expect(p.intents[0]).toEqual({ text: 'ship it', count: 2 });
    expect(p.supportByUser).toEqual({ u1: 2, u2: 1 });
    expect(p.supportByAgent).toEqual({ g1: 2 });
    expect(c.patterns({ minSuccessRate: 0.6 })).toEqual([]);
    expect(c.patterns({ userId: 'u1', minSupport: 2 })).toHaveLength(1);
    expect(c.patterns({ userId: 'u2', minSupport: 2 })).toEqual([]);
    expect(p.exampleSessionIds).toHaveLength(3);
  });

  it('confidence grows with evidence at the same success rate', () => {
    const small = new PatternCounter({ minSupport: 2 });
    const big = new PatternCounter({ minSupport: 2 });
    for (let i = 0; i < 3; i++) small.addSession(session(['a', 'b', 'c'], { success: true, ended: true }));
    for (let i = 0; i < 30; i++) big.addSession(session(['a', 'b', 'c'], { success: true, ended: true }));
    expect(big.patterns()[0].confidence).toBeGreaterThan(small.patterns()[0].confidence);
  });

  it('incremental equals batch: the same patterns and statistics whatever order sessions arrive in', () => {
    const sessions: ClosedSession[] = [];
    const tools = ['a', 'b', 'c', 'd', 'e', 'x', 'y', 'z'];
    let x = 7;
    for (let i = 0; i < 300; i++) {
      const s: string[] = [];
      for (let k = 0; k < 4 + (i % 9); k++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        s.push(tools[(x >>> 16) % tools.length]);
      }
      if (i % 3 === 0) s.splice(2, 0, 'p', 'q', 'r');
      sessions.push(session(s, { intent: `i${i % 4}`, success: i % 5 !== 0, ended: i % 2 === 0 }));
    }
    const strip = (c: PatternCounter) =>
      c
        .patterns({ mergeVariants: false })
        .map(({ exampleSessionIds, intents, meanDurationMs, ...rest }) => ({
          ...rest,
          // Sums of the same durations in another order differ in the last bits.
          meanDurationMs: Math.round(meanDurationMs * 1e6) / 1e6,
          intents: intents.map((i) => i.text).sort(),
          examples: exampleSessionIds.length,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    const batch = new PatternCounter({ minSupport: 5, examplesPerPattern: 5 });
    batch.addSessions(sessions);
    const oneByOne = new PatternCounter({ minSupport: 5, examplesPerPattern: 5 });
    for (const s of shuffled(sessions, 99)) oneByOne.addSession(s);
    expect(strip(batch).length).toBeGreaterThan(5);
    expect(strip(oneByOne)).toEqual(strip(batch));
    expect(batch.stats().visits).toBeGreaterThan(0);
  });

  it('round-trips a snapshot: same listing, same behaviour on new sessions', () => {
    const c = new PatternCounter({ minSupport: 2, payloadWindowSessions: 3 });
    for (let i = 0; i < 10; i++) c.addSession(session([step('find', { parameters: { q: `q${i}` }, result: { id: i } }), 'x', 'ship', 'y'], { intent: 'ship', userId: `u${i % 2}` }));
    const snap = c.toSnapshot();
    const back = PatternCounter.fromSnapshot(snap);
    expect(back.patterns()).toEqual(c.patterns());
    expect(back.stats()).toEqual(c.stats());
    const id = c.patterns()[0].id;
    expect(back.occurrences(id)).toEqual(c.occurrences(id));
    expect(back.occurrences(id).length).toBeGreaterThan(0);
    const more = [session(['find', 'ship', 'z', 'w']), session(['z', 'w', 'find', 'k']), session(['z', 'find', 'w', 'ship'])];
    for (const s of more) {
      c.addSession(s);
      back.addSession(s);
    }
    expect(back.patterns()).toEqual(c.patterns());
    expect(PatternCounter.fromSnapshot(back.toSnapshot()).toSnapshot().equals(back.toSnapshot())).toBe(true);
    expect(() => PatternCounter.fromSnapshot(Buffer.from('not a snapshot'))).toThrow(/mining snapshot/);
  });

  it('isolates tenants: a counter counts one tenant and refuses another', () => {
    const acme = new PatternCounter({ minSupport: 2, tenantId: 'acme' });
    const globex = new PatternCounter({ minSupport: 2, tenantId: 'globex' });
    for (let i = 0; i < 3; i++) acme.addSession(session(['a', 'b', 'c']));
    for (let i = 0; i < 3; i++) globex.addSession(session(['x', 'y', 'z'], { tenantId: 'globex' }));
    expect(() => acme.addSession(session(['a', 'b', 'c'], { tenantId: 'globex' }))).toThrow(/tenantId/);
    expect(toolsOf(acme)).toEqual(['a b c']);
    expect(toolsOf(globex)).toEqual(['x y z']);
    const [pa] = acme.patterns();
    expect(pa.tenantId).toBe('acme');
    expect(globex.pattern(pa.id)).toBeUndefined();
    // The same tools in two tenants get different ids.
    const other = new PatternCounter({ minSupport: 2, tenantId: 'globex' });
    for (let i = 0; i < 3; i++) other.addSession(session(['a', 'b', 'c'], { tenantId: 'globex' }));
    expect(other.patterns()[0].id).not.toBe(pa.id);
    expect(predictNextSteps(globex, ['a'])).not.toContainEqual(expect.objectContaining({ tool: 'b' }));
  });

  it('counts sessions of 10,000 steps with bounded work', () => {
    const c = new PatternCounter({ minSupport: 2, maxSteps: 4, maxWorkPerSession: 100_000 });
    const tools: string[] = [];
    for (let i = 0; i < 10_000; i++) tools.push(i % 50 === 0 ? 'a' : i % 50 === 1 ? 'b' : i % 50 === 2 ? 'c' : `t${(i * 7) % 13}`);
    for (let k = 0; k < 3; k++) c.addSession(session(tools));
    const st = c.stats();
    // Live counting stops at the budget; promotions beyond it wait for later sessions.
    expect(st.visits).toBeLessThan(3 * 100_000 + 3 * 10_000 * 3);
    expect(st.truncatedSessions + st.queuedPromotions).toBeGreaterThan(0);
    c.flushPromotions();
    expect(c.stats().queuedPromotions).toBe(0);
    expect(c.patterns({ minSupport: 3 }).some((p) => p.tools.join(' ').includes('a b c'))).toBe(true);
  });

  it('takes unicode tool names, and huge or deeply nested parameters without crashing', () => {
    const c = new PatternCounter({ minSupport: 2 });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    const huge = 'x'.repeat(2_000_000);
    for (let i = 0; i < 3; i++) {
      c.addSession(session([step('検索 🔎', { parameters: { deep, huge } }), step('prüfen', { result: deep }), step('отправить', { parameters: { list: new Array(100_000).fill(i) } })]));
    }
    const [p] = c.patterns();
    expect(p.tools).toEqual(['検索 🔎', 'prüfen', 'отправить']);
    const occ = c.occurrences(p.id);
    expect(occ).toHaveLength(3);
    expect(JSON.stringify(occ).length).toBeLessThan(100_000);
    expect(c.toSnapshot().length).toBeLessThan(200_000);
  });

  it('predicts the next steps after the tools already called', () => {
    const c = new PatternCounter({ minSupport: 2 });
    for (let i = 0; i < 6; i++) c.addSession(session(['login', 'search', 'buy']));
    for (let i = 0; i < 2; i++) c.addSession(session(['login', 'search', 'compare']));
    const next = predictNextSteps(c, ['login', 'search']);
    expect(next[0]).toEqual({ tool: 'buy', probability: 0.75, support: 6 });
    expect(next[1]).toEqual({ tool: 'compare', probability: 0.25, support: 2 });
    expect(predictNextSteps(c, ['unknown', 'search'])[0].tool).toBe('buy');
    expect(predictNextSteps(c, [], 1)[0]).toMatchObject({ tool: expect.any(String), probability: 1 });
  });

  it('refuses options that would make counting unbounded, naming the option', () => {
    expect(() => new PatternCounter({ maxSteps: 1000 })).toThrow(/maxSteps/);
    expect(() => new PatternCounter({ maxGap: -1 })).toThrow(/maxGap/);
  });
});
