import type { ClosedSession, MiningEvent } from './mining-types';
import { MiningInputError, SessionAssembler, applyOpenChanges } from './session-assembler';
import type { OpenSessionState } from './mining-types';

let streamSeq = 0;
const call = (sessionId: string, tool: string, over: Partial<MiningEvent> = {}): MiningEvent => ({
  streamSeq: ++streamSeq,
  tenantId: 't1',
  sessionId,
  kind: 'tool_call',
  tool,
  success: true,
  startedAt: 1_000,
  durationMs: 10,
  ...over,
});
const end = (sessionId: string, over: Partial<MiningEvent> = {}): MiningEvent => ({
  streamSeq: ++streamSeq,
  tenantId: 't1',
  sessionId,
  kind: 'session_end',
  success: true,
  startedAt: 2_000,
  durationMs: 0,
  ...over,
});

describe('SessionAssembler', () => {
  it('orders steps by seq, then startedAt, then streamSeq, whatever the arrival order', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    a.add(call('s', 'c', { seq: 2, startedAt: 5 }));
    a.add(call('s', 'a', { seq: 0, startedAt: 50 }));
    a.add(call('s', 'b2', { seq: 1, startedAt: 9 }));
    a.add(call('s', 'b1', { seq: 1, startedAt: 8 }));
    a.add(end('s'));
    const [s] = a.takeClosed(0);
    expect(s.steps.map((x) => x.tool)).toEqual(['a', 'b1', 'b2', 'c']);
  });

  it('breaks ties in seq and startedAt by stream order, and falls back to startedAt without seq', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    a.add(call('s', 'first', { seq: 3, startedAt: 7 }));
    a.add(call('s', 'second', { seq: 3, startedAt: 7 }));
    a.add(call('u', 'late', { startedAt: 300 }));
    a.add(call('u', 'early', { startedAt: 100 }));
    const closed = a.takeAll();
    expect(closed.find((s) => s.sessionId === 's')?.steps.map((x) => x.tool)).toEqual(['first', 'second']);
    expect(closed.find((s) => s.sessionId === 'u')?.steps.map((x) => x.tool)).toEqual(['early', 'late']);
  });

  it('closes at session_end with its success and intent, and idle sessions only after the idle window', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    a.add(call('ended', 'x', { startedAt: 0 }));
    a.add(end('ended', { success: false, intent: 'do the thing', userId: 'u1' }));
    a.add(call('idle', 'y', { startedAt: 0, durationMs: 100 }));
    const first = a.takeClosed(1_099);
    expect(first.map((s) => s.sessionId)).toEqual(['ended']);
    expect(first[0]).toMatchObject({ success: false, ended: true, intent: 'do the thing', userId: 'u1' });
    expect(a.takeClosed(1_100).map((s) => [s.sessionId, s.ended, s.success])).toEqual([['idle', false, undefined]]);
    expect(a.openCount).toBe(0);
  });

  it('keeps tenants apart even with the same session id', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    a.add(call('same', 'a', { tenantId: 'acme' }));
    a.add(call('same', 'b', { tenantId: 'globex' }));
    const closed = a.takeAll();
    expect(closed.map((s) => [s.tenantId, s.steps.map((x) => x.tool)]).sort()).toEqual([
      ['acme', ['a']],
      ['globex', ['b']],
    ]);
  });

  it('restores open sessions and reports the lowest stream sequence still held', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    const e1 = call('s', 'a');
    a.add(e1);
    a.add(call('s', 'b'));
    expect(a.lowestOpenStreamSeq()).toBe(e1.streamSeq);
    const state = JSON.parse(JSON.stringify(a.openSessions()));
    const b = SessionAssembler.restore({ sessionIdleMs: 1000 }, state);
    b.add(end('s'));
    expect(b.takeClosed(0)[0].steps.map((x) => x.tool)).toEqual(['a', 'b']);
    expect(b.lowestOpenStreamSeq()).toBeUndefined();
  });

  it('assembles a session of 10,000 steps and drops (and counts) calls over the bound', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000, maxStepsPerSession: 10_000 });
    for (let i = 10_049; i >= 0; i--) a.add(call('long', `tool-${i % 7}`, { seq: i, startedAt: i }));
    const [s] = a.takeAll();
    expect(s.steps).toHaveLength(10_000);
    expect(s.droppedSteps).toBe(50);
    expect(s.steps.every((x, i) => i === 0 || x.startedAt > s.steps[i - 1].startedAt)).toBe(true);
  });

  it('refuses an event it cannot place, naming the field', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    expect(() => a.add({ ...call('s', 'a'), sessionId: '' })).toThrow(MiningInputError);
    expect(() => a.add({ ...call('s', 'a'), tool: undefined })).toThrow(/^tool:/);
    expect(() => a.add({ ...call('s', 'a'), tenantId: undefined as unknown as string })).toThrow(/^tenantId:/);
  });

  it('survives non-finite timestamps and durations', () => {
    const a = new SessionAssembler({ sessionIdleMs: 1000 });
    a.add(call('s', 'a', { startedAt: NaN, durationMs: Infinity }));
    a.add(call('s', 'b', { startedAt: 5, durationMs: -3 }));
    const [s] = a.takeAll();
    expect(s.steps.map((x) => [x.tool, x.startedAt, x.durationMs])).toEqual([
      ['a', 0, 0],
      ['b', 5, 0],
    ]);
  });

  describe('closing on the arrival clock', () => {
    const DAY = 86_400_000;
    /** Events of cases published one after the other, arriving 10 ms apart (what an import does). */
    const arriving = (events: Array<[string, string | null, number]>, from = 1_000_000): MiningEvent[] =>
      events.map(([sessionId, tool, startedAt], i) =>
        tool === null ? end(sessionId, { startedAt, arrivedAt: from + i * 10 }) : call(sessionId, tool, { seq: i, startedAt, arrivedAt: from + i * 10 }),
      );
    const shape = (closed: ReturnType<SessionAssembler['takeAll']>) => closed.map((s) => `${s.sessionId}:${s.steps.map((x) => x.tool).join('>')}${s.ended ? '.' : ''}`);

    it('never splits a case at a gap in its event times (a two-day gap)', () => {
      const a = new SessionAssembler({ sessionIdleMs: 300_000 });
      const out: ClosedSession[] = [];
      for (const e of arriving([
        ['c1', 'open', 0],
        ['c2', 'open', 0],
        ['c1', 'review', 2 * DAY],
        ['c1', null, 2 * DAY],
        ['c2', 'close', 3 * DAY],
        ['c2', null, 3 * DAY],
      ])) {
        a.add(e);
        // The clock the analyzer passes at the end of a step: the latest arrival read.
        out.push(...a.takeClosed(e.arrivedAt!));
      }
      expect(shape(out)).toEqual(['c1:open>review.', 'c2:open>close.']);
    });

    it('gives the same sessions whatever the closing points (per event, per step of 2, at the end)', () => {
      const events = arriving([
        ['a', 'x', 5 * DAY],
        ['b', 'x', 0],
        ['a', 'y', 0],
        ['b', 'y', DAY],
        ['a', null, 0],
        ['b', 'z', DAY],
        ['b', null, DAY],
      ]);
      const run = (every: number) => {
        const a = new SessionAssembler({ sessionIdleMs: 1_000, sessionEndGraceMs: 15 });
        const out: ClosedSession[] = [];
        events.forEach((e, i) => {
          a.add(e);
          if ((i + 1) % every === 0) out.push(...a.takeClosed(e.arrivedAt!));
        });
        out.push(...a.takeAll());
        return shape(out);
      };
      expect(run(1)).toEqual(['a:x>y.', 'b:x>y>z.']);
      expect(run(2)).toEqual(run(1));
      expect(run(events.length + 1)).toEqual(run(1));
    });

    it('closes a session idle on the arrival clock, and a late event of it opens a new piece, at any closing point', () => {
      for (const closeEvery of [1, 100]) {
        const a = new SessionAssembler({ sessionIdleMs: 1_000 });
        const out: ClosedSession[] = [];
        const add = (e: MiningEvent) => {
          a.add(e);
          if (closeEvery === 1) out.push(...a.takeClosed(e.arrivedAt!));
        };
        add(call('s', 'a', { arrivedAt: 0, startedAt: 0 }));
        add(call('s', 'b', { arrivedAt: 999, startedAt: 0 }));
        add(call('t', 'other', { arrivedAt: 1_998 }));
        add(call('s', 'c', { arrivedAt: 1_999, startedAt: 0 }));
        out.push(...a.takeAll());
        expect(shape(out)).toEqual(['s:a>b', 't:other', 's:c']);
      }
    });

    it('closes an ended session after the grace, and takes in a call that arrives within it', () => {
      const a = new SessionAssembler({ sessionIdleMs: 60_000, sessionEndGraceMs: 500 });
      a.add(call('s', 'a', { seq: 0, arrivedAt: 0 }));
      a.add(end('s', { seq: 2, arrivedAt: 100 }));
      a.add(call('s', 'b', { seq: 1, arrivedAt: 400 }));
      expect(a.takeClosed(599)).toEqual([]);
      expect(a.nextCloseAt()).toBe(600);
      expect(shape(a.takeClosed(600))).toEqual(['s:a>b.']);
      // Past the grace, a call of the same session is a new piece.
      a.add(end('u', { arrivedAt: 1_000 }));
      a.add(call('u', 'late', { arrivedAt: 1_500 }));
      expect(shape(a.takeAll())).toEqual(['u:.', 'u:late']);
    });

    it('puts a session_end that carries the session\'s start time after its calls', () => {
      const a = new SessionAssembler({ sessionIdleMs: 300_000 });
      // A full rebuild reads in arrival order: the session_end, stamped with the start, arrives last.
      a.add(call('s', 'a', { seq: 0, startedAt: 1_000, arrivedAt: 50 }));
      a.add(call('s', 'b', { seq: 1, startedAt: 2_000, arrivedAt: 60 }));
      a.add(end('s', { seq: 2, startedAt: 1_000, durationMs: 1_500, arrivedAt: 70 }));
      expect(a.takeClosed(70).map((s) => [s.steps.map((x) => x.tool), s.ended, s.startedAt, s.endedAt])).toEqual([[['a', 'b'], true, 1_000, 2_500]]);
    });

    it('keeps arrival times and pieces found over across a save and restore', () => {
      const a = new SessionAssembler({ sessionIdleMs: 1_000, sessionEndGraceMs: 100 });
      a.add(call('s', 'a', { arrivedAt: 0 }));
      a.add(call('s', 'b', { arrivedAt: 1_000 })); // over: a new piece
      a.add(call('e', 'x', { arrivedAt: 1_010 }));
      a.add(end('e', { arrivedAt: 1_020 }));
      const b = SessionAssembler.restore(a.opts, JSON.parse(JSON.stringify(a.openSessions())));
      expect(b.openCount).toBe(3);
      expect(b.lowestOpenStreamSeq()).toBe(a.lowestOpenStreamSeq());
      expect(shape(b.takeClosed(1_119))).toEqual(['s:a']);
      expect(shape(b.takeClosed(1_120))).toEqual(['e:x.']);
      b.add(call('s', 'c', { arrivedAt: 1_999 }));
      expect(shape(b.takeClosed(2_998))).toEqual([]);
      expect(shape(b.takeClosed(2_999))).toEqual(['s:b>c']);
    });

    it('restores state saved before arrival times existed at the arrival it is given', () => {
      const saved = [{ tenantId: 't1', sessionId: 'old', events: [call('old', 'a', { startedAt: 5 * DAY })], droppedSteps: 0, lastActivityAt: 5 * DAY }];
      const b = SessionAssembler.restore({ sessionIdleMs: 1_000 }, saved, 50_000);
      expect(b.nextCloseAt()).toBe(51_000);
    });
  });

  describe('saving open sessions as changes', () => {
    /** A store as the analyzer keeps it: a base of openSessions() and the change records since. */
    class Saved {
      base: OpenSessionState[] = [];
      changes: Array<{ upserts: OpenSessionState[]; removed: Array<{ tenantId: string; sessionId: string }> }> = [];
      save(a: SessionAssembler): 'base' | 'changes' {
        const c = a.takeOpenChanges();
        if (c.full) {
          this.base = JSON.parse(JSON.stringify(a.openSessions())) as OpenSessionState[];
          this.changes = [];
          a.openSaved();
          return 'base';
        }
        this.changes.push(JSON.parse(JSON.stringify({ upserts: c.upserts, removed: c.removed })) as Saved['changes'][number]);
        return 'changes';
      }
      restored(): OpenSessionState[] {
        return applyOpenChanges(this.base, this.changes);
      }
    }
    const byKey = (list: OpenSessionState[]) => [...list].sort((x, y) => (x.sessionId < y.sessionId ? -1 : x.sessionId > y.sessionId ? 1 : 0));
    const closedShape = (list: ClosedSession[]) => list.map((s) => `${s.sessionId}:${s.steps.map((x) => x.tool).join('>')}${s.ended ? '.' : ''}@${s.lastStreamSeq}`);

    it('writes only the sessions a step changed, and a base plus changes restores the same sessions', () => {
      const a = new SessionAssembler({ sessionIdleMs: 1_000 });
      const saved = new Saved();
      for (let i = 0; i < 2_000; i++) a.add(call(`s${i}`, 'a', { arrivedAt: i % 10 }));
      expect(saved.save(a)).toBe('base');
      a.add(call('s7', 'b', { arrivedAt: 20 }));
      a.add(call('new', 'c', { arrivedAt: 20 }));
      const c = a.takeOpenChanges();
      expect(c.full).toBe(false);
      if (c.full) return;
      expect(c.upserts.map((s) => [s.sessionId, s.events.map((e) => e.tool)])).toEqual([
        ['s7', ['a', 'b']],
        ['new', ['c']],
      ]);
      expect(c.removed).toEqual([]);
      // Nothing changed since: an empty record.
      expect(a.takeOpenChanges()).toEqual({ full: false, upserts: [], removed: [] });
    });

    it('restores exactly the open sessions of every save, across pieces, ends, drops and closings', () => {
      // A fixed pseudo-random walk: sessions come and go, some end, some idle out, some get a late piece.
      let seed = 12345;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      const opts = { sessionIdleMs: 50, sessionEndGraceMs: 5, maxStepsPerSession: 4 };
      const rounds: MiningEvent[][] = [];
      let clock = 0;
      for (let round = 0; round < 60; round++) {
        const events: MiningEvent[] = [];
        for (let k = 0; k < 25; k++) {
          clock += rnd(3);
          const id = `s${rnd(40)}`;
          events.push(rnd(8) === 0 ? end(id, { arrivedAt: clock, startedAt: clock }) : call(id, `t${rnd(3)}`, { arrivedAt: clock, startedAt: clock }));
        }
        rounds.push(events);
      }
      const live = new SessionAssembler(opts);
      let a = new SessionAssembler(opts);
      const saved = new Saved();
      const closedLive: ClosedSession[] = [];
      const closedRestarted: ClosedSession[] = [];
      const kinds: string[] = [];
      rounds.forEach((events, round) => {
        const at = events[events.length - 1].arrivedAt!;
        for (const e of events) {
          live.add(e);
          a.add(e);
        }
        closedLive.push(...live.takeClosed(at));
        closedRestarted.push(...a.takeClosed(at));
        kinds.push(saved.save(a));
        expect(byKey(saved.restored())).toEqual(byKey(JSON.parse(JSON.stringify(a.openSessions())) as OpenSessionState[]));
        // A restart from what is stored continues exactly as the live assembler does.
        if (round % 7 === 6) {
          a = SessionAssembler.restore(opts, saved.restored());
          expect(a.takeOpenChanges()).toEqual({ full: false, upserts: [], removed: [] });
        }
      });
      // One base (the first save), changes after it, restarts included.
      expect(kinds.filter((k) => k === 'base')).toHaveLength(1);
      expect(saved.changes.some((c) => c.removed.length > 0)).toBe(true);
      closedLive.push(...live.takeAll());
      closedRestarted.push(...a.takeAll());
      expect(closedLive.length).toBeGreaterThan(100);
      expect(closedShape(closedRestarted)).toEqual(closedShape(closedLive));
    });

    it('writes everything again after a failed save, and while pieces found over are pending', () => {
      const a = new SessionAssembler({ sessionIdleMs: 100 });
      a.add(call('s', 'a', { arrivedAt: 0 }));
      expect(a.takeOpenChanges().full).toBe(true); // never saved
      a.openSaved();
      a.add(call('s', 'b', { arrivedAt: 10 }));
      expect(a.takeOpenChanges().full).toBe(false);
      a.openSaveFailed();
      expect(a.takeOpenChanges().full).toBe(true);
      a.openSaved();
      a.add(call('s', 'c', { arrivedAt: 500 })); // over: the old piece waits for takeClosed
      expect(a.takeOpenChanges().full).toBe(true);
      a.openSaved();
      expect(a.takeOpenChanges().full).toBe(true);
      expect(a.takeClosed(500).map((x) => x.steps.map((st) => st.tool).join('>'))).toEqual(['a>b']);
      a.openSaved();
      const c = a.takeOpenChanges();
      expect(c).toEqual({ full: false, upserts: [], removed: [] });
    });
  });
});
