import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { closedNodes, type ClosureSource } from './closed-patterns';
import type { ClosedSession, SessionStep } from './mining-types';
import { PatternCounter } from './pattern-counter';

let clock = 0;
let sid = 0;
const step = (tool: string, over: Partial<SessionStep> = {}): SessionStep => ({ tool, success: true, durationMs: 10, startedAt: clock++, ...over });
const session = (tools: string[], over: Partial<ClosedSession> = {}): ClosedSession => ({
  tenantId: 'acme',
  sessionId: `s${++sid}`,
  steps: tools.map((t) => step(t, { parameters: { n: sid }, result: { id: `${t}-${sid}` } })),
  startedAt: clock,
  endedAt: clock + 100,
  lastStreamSeq: sid,
  ...over,
});

/** Deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LONG = Array.from({ length: 25 }, (_, i) => `proc.step${i}`);
const LOOPS = new Set(LONG.filter((_, i) => i % 5 === 3));

/** Sessions running the 25-step procedure (loops inside, unrelated calls interleaved), some noise only. */
function longProcedureSessions(n: number, seed: number): ClosedSession[] {
  const rnd = random(seed);
  const noise = (): string => `misc.${Math.floor(rnd() * 200)}`;
  const out: ClosedSession[] = [];
  for (let i = 0; i < n; i++) {
    const tools: string[] = [];
    for (let k = Math.floor(rnd() * 3); k > 0; k--) tools.push(noise());
    if (rnd() < 0.8) {
      LONG.forEach((t, k) => {
        if (k > 0) for (let g = 0; g < 2; g++) if (rnd() < 0.3) tools.push(noise());
        tools.push(t);
        if (LOOPS.has(t)) for (let r = Math.floor(rnd() * 5); r > 0; r--) tools.push(t);
      });
    }
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) tools.push(noise());
    out.push(session(tools, { ended: true, success: true, intent: 'run the procedure' }));
  }
  return out;
}

const isSubsequence = (short: string[], long: string[]): boolean => {
  let i = 0;
  for (let j = 0; j < long.length && i < short.length; j++) if (long[j] === short[i]) i++;
  return i === short.length;
};

describe('PatternCounter at scale: loops, closure, long procedures', () => {
  it('counts a loop of one tool (50 calls in a row) as one step, its repeats as a statistic', () => {
    const c = new PatternCounter({ minSupport: 3 });
    for (let i = 0; i < 8; i++) {
      const loop = Array.from({ length: 50 }, () => 'poll');
      c.addSession(session(['start', ...(i < 2 ? ['x'] : []), ...loop, 'fetch', 'done']));
    }
    const listed = c.patterns();
    expect(listed.map((p) => p.tools.join(' '))).toEqual(['start poll fetch done']);
    expect(listed[0].support).toBe(8);
    expect(listed[0].stepRepeats).toEqual([
      { mean: 1, max: 1 },
      { mean: 50, max: 50 },
      { mean: 1, max: 1 },
      { mean: 1, max: 1 },
    ]);
    // 4 distinct runs per session: the trie holds their subsequences, not the loop's 50^k.
    expect(c.stats().nodes).toBeLessThan(40);
    // The occurrence shows the loop's first call for its step.
    const [occ] = c.occurrences(listed[0].id);
    expect(occ.steps.map((s) => s.tool)).toEqual(['start', 'poll', 'fetch', 'done']);
  });

  it('keeps a loop of two tools bounded: one listed pattern, not every gapped subsequence of it', () => {
    const c = new PatternCounter({ minSupport: 3 });
    for (let i = 0; i < 6; i++) {
      const loop: string[] = [];
      for (let k = 0; k < 25; k++) loop.push('search', 'inspect');
      c.addSession(session(['open', ...loop, 'close']));
    }
    const listed = c.patterns();
    expect(listed.length).toBeLessThanOrEqual(2);
    expect(listed[0].tools[0]).toBe('open');
    expect(listed[0].tools.length).toBeGreaterThan(8);
    expect(c.stats().frequentNodes).toBeLessThan(500);
  });

  it('decides closedness by one-step deletions on the trie, not by comparing all pairs', () => {
    // A trie of 2,000 four-step chains, each with its three-step prefix: the prefix is closed
    // only when it has more sessions than the chain.
    let lookups = 0;
    class CountingMap extends Map<number, number> {
      override get(k: number): number | undefined {
        lookups++;
        return super.get(k);
      }
    }
    const parent = [-1];
    const tool = [-1];
    const depth = [0];
    const count = [0];
    const children: CountingMap[] = [new CountingMap()];
    const add = (p: number, t: number, n: number): number => {
      const id = parent.length;
      parent.push(p);
      tool.push(t);
      depth.push(depth[p] + 1);
      count.push(n);
      children.push(new CountingMap());
      children[p].set(t, id);
      return id;
    };
    const listed: number[] = [];
    const prefixes: Array<[number, boolean]> = [];
    for (let i = 0; i < 2000; i++) {
      const a = add(0, 10_000 + i, 50);
      const b = add(a, 20_000 + i, 50);
      const c3 = add(b, 30_000 + i, 40 + (i % 2) * 10);
      const d = add(c3, 40_000 + i, 40);
      listed.push(c3, d);
      prefixes.push([c3, i % 2 === 1]);
    }
    const src: ClosureSource = {
      parent: Int32Array.from(parent),
      tool: Int32Array.from(tool),
      depth: Uint8Array.from(depth),
      count: Int32Array.from(count),
      children,
      keyIdOf: Int32Array.from(parent.map((_, i) => i)),
      weight: (n) => count[n],
    };
    const inListing = new Set(listed);
    const kept = new Set(closedNodes(src, listed, 0, (n) => inListing.has(n)));
    for (const [prefix, hasMore] of prefixes) expect(kept.has(prefix)).toBe(hasMore);
    // Each four-step chain looks up its four deletions (at most 1 + 2 + 3 steps each): linear
    // in the listing, where comparing all pairs would take 4,000 × 4,000 subsequence tests.
    expect(lookups).toBeLessThanOrEqual(2000 * (3 + 2 + 1 + 0) + 2000 * (2 + 1 + 0));
  });

  it('learns a planted 25-step procedure (loops and interleaved calls inside) whole, not as fragments', () => {
    const c = new PatternCounter();
    const sessions = longProcedureSessions(300, 11);
    c.addSessions(sessions);
    const listed = c.patterns({ minSupport: Math.ceil(0.01 * sessions.length), closedTolerance: 0.1 });
    const whole = listed.filter((p) => p.tools.join(' ') === LONG.join(' '));
    expect(whole).toHaveLength(1);
    expect(whole[0].support).toBeGreaterThan(200);
    const fragments = listed.filter((p) => p !== whole[0] && isSubsequence(p.tools, LONG));
    expect(fragments.map((p) => p.tools.join(' '))).toEqual([]);
    LONG.forEach((t, k) => {
      if (LOOPS.has(t)) expect(whole[0].stepRepeats[k].max).toBeGreaterThan(1);
      else expect(whole[0].stepRepeats[k].max).toBe(1);
    });
    // The same after more sessions arrive: grown patterns are counted live.
    const more = longProcedureSessions(30, 12);
    c.addSessions(more);
    const again = c.pattern(whole[0].id);
    expect(again?.support).toBeGreaterThan(whole[0].support);
  });

  it('round-trips a snapshot with grown patterns, and recounts a snapshot of the old format', () => {
    const c = new PatternCounter({ payloadWindowSessions: 50 });
    c.addSessions(longProcedureSessions(120, 21));
    const filter = { minSupport: 2, closedTolerance: 0.1 };
    const before = c.patterns(filter);
    expect(before.some((p) => p.tools.length === 25)).toBe(true);
    const snap = c.toSnapshot();
    const back = PatternCounter.fromSnapshot(snap);
    expect(back.rebuiltFromFormat).toBeUndefined();
    expect(back.patterns(filter)).toEqual(before);
    expect(back.stats()).toEqual(c.stats());
    const id = before[0].id;
    expect(back.occurrences(id)).toEqual(c.occurrences(id));
    const more = longProcedureSessions(10, 22);
    for (const s of more) {
      c.addSession(s);
      back.addSession(s);
    }
    expect(back.patterns(filter)).toEqual(c.patterns(filter));
    expect(PatternCounter.fromSnapshot(back.toSnapshot()).toSnapshot().equals(back.toSnapshot())).toBe(true);

    // The same sessions in a snapshot of format 1 (patterns counted over calls, not runs): kept and recounted.
    const body = inflateRawSync(snap.subarray(4));
    const headerLen = body.readUInt32LE(0);
    const header = JSON.parse(body.subarray(4, 4 + headerLen).toString('utf8')) as { format: string };
    header.format = 'toolpath-mining/1';
    const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(headerBuf.length, 0);
    const legacy = Buffer.concat([Buffer.from('TPM1', 'ascii'), deflateRawSync(Buffer.concat([len, headerBuf, body.subarray(4 + headerLen)]))]);
    const rebuilt = PatternCounter.fromSnapshot(legacy);
    expect(rebuilt.rebuiltFromFormat).toBe('toolpath-mining/1');
    expect(rebuilt.sessionsSeen).toBe(120);
    const fresh = new PatternCounter({ payloadWindowSessions: 50 });
    fresh.addSessions(longProcedureSessions(120, 21));
    expect(rebuilt.patterns(filter).map((p) => [p.tools.join(' '), p.support])).toEqual(fresh.patterns(filter).map((p) => [p.tools.join(' '), p.support]));
  });
});
