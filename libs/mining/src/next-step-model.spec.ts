import { NextStepModel } from './next-step-model';
import { PatternCounter } from './pattern-counter';
import { predictNextSteps } from './predict-next-steps';
import type { ClosedSession } from './mining-types';

let n = 0;
function session(tools: string[], intent?: string): ClosedSession {
  n++;
  return {
    tenantId: 't',
    sessionId: `s${n}`,
    ...(intent ? { intent } : {}),
    steps: tools.map((tool, i) => ({ tool, success: true, durationMs: 10, startedAt: n * 1000 + i })),
    startedAt: n * 1000,
    endedAt: n * 1000 + tools.length,
    lastStreamSeq: n,
  };
}

function trained(sessions: ClosedSession[], opts: ConstructorParameters<typeof NextStepModel>[0] = {}): { model: NextStepModel; counter: PatternCounter } {
  const model = new NextStepModel(opts);
  const counter = new PatternCounter({ tenantId: 't', minSupport: 2 });
  for (const s of sessions) {
    model.addSession(s);
    counter.addSession(s);
  }
  return { model, counter };
}

const top = (model: NextStepModel | { model: NextStepModel; counter: PatternCounter }, called: string[], intent?: string): string | undefined => predictNextSteps(model, called, 3, intent)[0]?.tool;

describe('NextStepModel', () => {
  it('predicts the immediate successor, not a tool that follows a step later in more sessions', () => {
    // After "search": "open" comes next in 6 sessions, "filter" in 4; "buy" follows within two
    // calls in all 10 (what the pattern counter's gapped counts rank first).
    const sessions = [...Array.from({ length: 6 }, () => session(['search', 'open', 'buy'])), ...Array.from({ length: 4 }, () => session(['search', 'filter', 'buy']))];
    const both = trained(sessions);
    expect(both.counter.nextToolCounts(['search']).next[0].tool).toBe('buy');
    expect(top(both, ['search'])).toBe('open');
    const ranked = predictNextSteps(both, ['search'], 3);
    expect(ranked.map((p) => p.tool).slice(0, 2)).toEqual(['open', 'filter']);
    expect(ranked[0]).toMatchObject({ support: 6 });
    expect(ranked.reduce((s, p) => s + p.probability, 0)).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('uses the longest context seen and backs off to shorter ones', () => {
    const sessions = [
      ...Array.from({ length: 3 }, () => session(['login', 'cart', 'pay'])),
      ...Array.from({ length: 5 }, () => session(['browse', 'cart', 'save'])),
      ...Array.from({ length: 2 }, () => session(['browse', 'cart', 'save', 'cart', 'pay'])),
    ];
    const { model } = trained(sessions);
    // "cart" alone is mostly followed by "save"; after "login, cart" always by "pay".
    expect(top(model, ['cart'])).toBe('save');
    expect(top(model, ['login', 'cart'])).toBe('pay');
    // An unseen context ("nowhere" never called) backs off to what follows "cart".
    expect(top(model, ['nowhere', 'cart'])).toBe('save');
    // A loop: the same tool repeated is still predicted from its own successors.
    expect(predictNextSteps(model, ['unknown-tool'], 3).length).toBeGreaterThan(0);
  });

  it('tells procedures apart by the intent when the calls so far are the same', () => {
    const sessions: ClosedSession[] = [];
    for (let i = 0; i < 8; i++) {
      sessions.push(session(['find_user', 'get_order', 'cancel_order'], `Cancel my order #W${1000 + i}, I am Ann Lee`));
      sessions.push(session(['find_user', 'get_order', 'get_product', 'return_items'], `I want to return the lamp of order #W${2000 + i}; zip 9${i}210`));
    }
    // Without the intent, after find_user → get_order the two are tied; with it, the intent decides.
    const { model } = trained(sessions);
    expect(top(model, ['find_user', 'get_order'], 'please cancel order #W9999 for Bo Chen')).toBe('cancel_order');
    expect(top(model, ['find_user', 'get_order'], 'return the blender from order #W5555')).toBe('get_product');
  });

  it('round-trips through a snapshot: same predictions, and learning goes on alike', () => {
    const sessions = Array.from({ length: 30 }, (_, i) => session(i % 3 === 0 ? ['a', 'b', 'c', 'b', 'c'] : ['a', 'c', 'd'], i % 3 === 0 ? 'loop over b and c' : 'go to d'));
    const { model } = trained(sessions.slice(0, 20));
    const copy = NextStepModel.fromSnapshot(model.toSnapshot());
    for (const called of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['x'], ['a', 'c']]) {
      expect(copy.predict(called, 'loop over b', 5)).toEqual(model.predict(called, 'loop over b', 5));
    }
    for (const s of sessions.slice(20)) {
      model.addSession(s);
      copy.addSession(s);
    }
    expect(copy.toJSON()).toEqual(model.toJSON());
    expect(copy.sessions).toBe(30);
  });

  it('stays within its bounds', () => {
    const model = new NextStepModel({ maxCells: 500, neighbourSessions: 10, maxTools: 50 });
    for (let i = 0; i < 300; i++) model.add(Array.from({ length: 12 }, (_, j) => `tool${(i * 7 + j * 13) % 97}`), `intent ${i}`);
    const state = model.toJSON();
    expect(state.cells.reduce((s, [, flat]) => s + flat.length / 3, 0)).toBeLessThanOrEqual(500);
    expect(state.tools.length).toBeLessThanOrEqual(50);
    expect(state.ring.length).toBeLessThanOrEqual(10);
    expect(model.predict(['tool1'], 'intent 5', 3).length).toBeGreaterThan(0);
  });

  it('falls back to the pattern counts while the model has counted nothing', () => {
    const counter = new PatternCounter({ tenantId: 't', minSupport: 2 });
    for (let i = 0; i < 4; i++) counter.addSession(session(['x', 'y']));
    expect(top({ model: new NextStepModel(), counter }, ['x'])).toBe('y');
    expect(predictNextSteps(new NextStepModel(), ['x'])).toEqual([]);
  });
});
