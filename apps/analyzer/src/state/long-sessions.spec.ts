import { resolveMiningOptions, type MiningEvent } from '@toolpath/mining';
import { CLOSE_ALL, TenantLearning } from './tenant-learning';

/**
 * A session far longer than ANALYZER_MAX_STEPS_PER_SESSION (a 100,000-step case of an imported
 * log): the first calls are mined, the rest dropped and counted, so a run can report them.
 */
describe('sessions over maxStepsPerSession', () => {
  const call = (sessionId: string, i: number): MiningEvent => ({
    streamSeq: i + 1,
    tenantId: 'acme',
    sessionId,
    kind: 'tool_call',
    tool: ['search', 'open', 'read', 'edit'][(i * 3 + (i >> 4)) % 4],
    success: true,
    startedAt: 1_700_000_000_000 + i * 1000,
    durationMs: 10,
    seq: i,
  });

  it('mines the first calls, counts the dropped ones once, and closes the session', () => {
    const state = TenantLearning.fresh('acme', { mining: resolveMiningOptions({}), maxStepsPerSession: 1000 });
    const events: MiningEvent[] = [];
    for (let i = 0; i < 100_000; i++) events.push(call('long', i));
    events.push({ ...call('long', 100_000), kind: 'session_end', tool: undefined, seq: 100_000 });
    state.addEvents(events, Date.now());
    expect(state.closeSessions(CLOSE_ALL)).toBe(1);
    expect(state.takeDroppedSteps()).toBe(99_000);
    expect(state.takeDroppedSteps()).toBe(0);
    expect(state.openSessionCount()).toBe(0);
  });
});
