import { PatternCounter, type ClosedSession } from '@toolpath/mining';
import type { TenantLearning } from '../state/tenant-learning';
import { TenantPatternViews } from './pattern-views';

let sid = 0;
const session = (tools: string[], userId: string): ClosedSession => ({
  tenantId: 'acme',
  sessionId: `s${++sid}`,
  userId,
  steps: tools.map((tool, i) => ({ tool, success: true, durationMs: 10, startedAt: sid * 100 + i })),
  startedAt: sid * 100,
  endedAt: sid * 100 + 50,
  lastStreamSeq: sid,
});

/** A tenant whose 20 procedures are used by 3 to 22 sessions each (distinct tools, so all are closed). */
function tenant(): TenantLearning {
  const counter = new PatternCounter({ tenantId: 'acme', minSupport: 3 });
  for (let w = 0; w < 20; w++) {
    for (let k = 0; k < 3 + w; k++) counter.addSession(session([`w${w}.a`, `w${w}.b`, `w${w}.c`], w === 19 ? 'ann' : 'bob'));
  }
  return { tenantId: 'acme', counter, revision: 1, promoted: new Map<string, string>() } as unknown as TenantLearning;
}

const filter = { minSupport: 3, minSuccessRate: 0, minShare: 0, closedTolerance: 0.1 };

describe('TenantPatternViews', () => {
  it('lists at most maxPatterns per tenant, the best by score', () => {
    const views = new TenantPatternViews(tenant(), { ...filter, maxPatterns: 5 });
    const listed = views.patterns();
    expect(listed.map((p) => p.tools[0])).toEqual(['w19.a', 'w18.a', 'w17.a', 'w16.a', 'w15.a']);
    const page = views.list({ sort: 'score', limit: 50 });
    expect(page.items).toHaveLength(5);
    expect(page.nextCursor).toBeNull();
    expect(new TenantPatternViews(tenant(), filter).patterns()).toHaveLength(20);
  });

  it('answers a user filter from the listing, and lists again only when the state moved', () => {
    const state = tenant();
    const views = new TenantPatternViews(state, { ...filter, maxPatterns: 5 });
    const first = views.patterns();
    expect(views.list({ sort: 'score', limit: 50, userId: 'ann' }).items.map((p) => p.tools[0])).toEqual(['w19.a']);
    // Bob's 19 procedures: the bounded listing's, not a listing of its own per request.
    expect(views.list({ sort: 'score', limit: 50, userId: 'bob' }).items.map((p) => p.tools[0])).toEqual(['w18.a', 'w17.a', 'w16.a', 'w15.a']);
    expect(views.patterns()).toBe(first);
    for (let k = 0; k < 30; k++) state.counter.addSession(session(['w0.a', 'w0.b', 'w0.c'], 'bob'));
    state.revision++;
    expect(views.patterns()[0].tools[0]).toBe('w0.a');
  });
});
