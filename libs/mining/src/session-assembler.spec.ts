import type { MiningEvent } from './mining-types';
import { MiningInputError, SessionAssembler } from './session-assembler';

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
});
