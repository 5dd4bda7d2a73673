import { renderTemplate, validateWorkflow } from '@toolpath/workflow';
import { inferWorkflow } from './infer-workflow';
import type { ClosedSession, SessionStep } from './mining-types';
import { PatternCounter } from './pattern-counter';

let clock = 0;
const step = (tool: string, parameters?: Record<string, unknown>, result?: unknown, over: Partial<SessionStep> = {}): SessionStep => ({
  tool,
  ...(parameters ? { parameters } : {}),
  ...(result !== undefined ? { result } : {}),
  success: true,
  durationMs: 100,
  startedAt: clock++,
  ...over,
});
let sid = 0;
const session = (steps: SessionStep[]): ClosedSession => ({ tenantId: 't', sessionId: `s${++sid}`, steps, startedAt: 0, endedAt: 1, lastStreamSeq: sid });

/** Sessions of: search -> (audit, notify in either order) -> ship, with unrelated calls interleaved. */
function orderSessions(n: number, opts: { failShip?: number } = {}): ClosedSession[] {
  const out: ClosedSession[] = [];
  for (let i = 0; i < n; i++) {
    const id = `ord-${i * 7919}`;
    const audit = step('audit', { orderId: id, level: 'full' }, { ok: true });
    const notify = step('notify', { channel: '#ops', text: 'new order {{not a template}}' }, { sent: true });
    const middle = i % 2 === 0 ? [audit, notify] : [notify, audit];
    out.push(
      session([
        step('search', { query: `customer ${i}`, region: 'eu' }, { hits: 1, order: { id, items: [{ sku: `sku-${i}` }] } }),
        step('unrelated.lookup', { x: i }),
        ...middle,
        step('ship', { orderId: id, sku: `sku-${i}`, express: true }, { tracking: `T${i}` }, { success: i >= (opts.failShip ?? 0), durationMs: 1_000 + i }),
      ]),
    );
  }
  return out;
}

describe('inferWorkflow', () => {
  const counter = new PatternCounter({ minSupport: 3 });
  counter.addSessions(orderSessions(12, { failShip: 3 }));
  const [pattern] = counter.patterns();
  const { definition, bindings, parallelGroups } = inferWorkflow(pattern, counter.occurrences(pattern.id));
  const byTool = new Map(definition.steps.map((s) => [s.tool, s]));

  it('produces a valid learned definition v1', () => {
    expect(pattern.tools.filter((t) => t !== 'unrelated.lookup')).toHaveLength(4);
    expect(definition.source).toBe('learned');
    expect(validateWorkflow(definition).ok).toBe(true);
  });

  it('keeps constant parameters literal, with observed "{{" escaped', () => {
    expect(byTool.get('search')?.parameters.region).toBe('eu');
    expect(byTool.get('audit')?.parameters.level).toBe('full');
    expect(byTool.get('ship')?.parameters.express).toBe(true);
    expect(byTool.get('notify')?.parameters.text).toBe("new order {{ '{{' }}not a template}}");
  });

  it('turns varying parameters into input variables with a JSON Schema', () => {
    expect(byTool.get('search')?.parameters.query).toBe('{{input.query}}');
    expect(definition.variables?.properties?.query).toMatchObject({ type: 'string' });
    expect(definition.variables?.required).toContain('query');
  });

  it('binds a parameter equal to an earlier result field in every occurrence (data flow)', () => {
    const search = byTool.get('search')?.id;
    expect(byTool.get('audit')?.parameters.orderId).toBe(`{{steps.${search}.result.order.id}}`);
    expect(byTool.get('ship')?.parameters.orderId).toBe(`{{steps.${search}.result.order.id}}`);
    expect(byTool.get('ship')?.parameters.sku).toBe(`{{steps.${search}.result.order.items[0].sku}}`);
    expect(bindings.map((b) => `${b.stepId}.${b.parameter}`).sort()).toEqual(
      [`${byTool.get('audit')?.id}.orderId`, `${byTool.get('ship')?.id}.orderId`, `${byTool.get('ship')?.id}.sku`].sort(),
    );
  });

  it('gives steps seen in both orders no dependency between them (parallel)', () => {
    const audit = byTool.get('audit');
    const notify = byTool.get('notify');
    expect(audit?.dependsOn ?? []).not.toContain(notify?.id);
    expect(notify?.dependsOn ?? []).not.toContain(audit?.id);
    expect(parallelGroups.some((g) => g.includes(audit?.id as string) && g.includes(notify?.id as string))).toBe(true);
    expect(byTool.get('ship')?.dependsOn).toEqual(expect.arrayContaining([audit?.id, notify?.id]));
  });

  it('sets retry from observed failures and timeouts from p95 durations', () => {
    const ship = byTool.get('ship');
    expect(ship?.retry?.maxAttempts).toBeGreaterThanOrEqual(2);
    expect(ship?.timeoutMs).toBeGreaterThanOrEqual(3 * 1_000);
    expect(byTool.get('audit')?.retry).toBeUndefined();
    expect(byTool.get('audit')?.timeoutMs).toBe(1_000);
  });

  it('keeps a dependency when steps always come in one order, and without variants sees no parallelism', () => {
    const one = inferWorkflow(pattern, counter.occurrences(pattern.id, { withVariants: false }));
    expect(one.parallelGroups.flat()).not.toContain(one.definition.steps.find((s) => s.tool === 'notify')?.id);
  });

  it('handles unicode tool names, missing occurrences and truncated values', () => {
    const c = new PatternCounter({ minSupport: 2 });
    for (let i = 0; i < 3; i++) c.addSession(session([step('検索', { q: 'x'.repeat(10_000) }), step('prüfen'), step('🚀 launch', { n: i })]));
    const [p] = c.patterns();
    const inferred = inferWorkflow(p, c.occurrences(p.id));
    expect(validateWorkflow(inferred.definition).ok).toBe(true);
    expect(inferred.definition.steps.map((s) => s.id)).toEqual(['s1', 's2_pr_fen', 's3_launch']);
    // A truncated constant cannot be reproduced: it becomes an input.
    expect(inferred.definition.steps[0].parameters.q).toBe('{{input.q}}');
    const bare = inferWorkflow(p, []);
    expect(validateWorkflow(bare.definition).ok).toBe(true);
    expect(bare.definition.steps[1].dependsOn).toEqual([bare.definition.steps[0].id]);
  });
});

describe('inferWorkflow: data flow from real results', () => {
  const inferFirst = (sessions: ClosedSession[], minSupport = 3) => {
    const c = new PatternCounter({ minSupport, minSteps: 2 });
    c.addSessions(sessions);
    const [p] = c.patterns();
    const inferred = inferWorkflow(p, c.occurrences(p.id));
    expect(validateWorkflow(inferred.definition).ok).toBe(true);
    return { pattern: p, ...inferred, byTool: new Map(inferred.definition.steps.map((s) => [s.tool, s])) };
  };

  it('binds fields of a result recorded as JSON text, however long, read through fromjson', () => {
    const sessions = Array.from({ length: 10 }, (_, i) => {
      const reservation = { reservation_id: `RES${1000 + i}X`, user_id: `user_${i}_77`, flights: [{ flight_number: `HAT${100 + i}`, date: '2024-05-20' }], notes: 'x'.repeat(400) };
      return session([
        step('get_reservation_details', { reservation_id: reservation.reservation_id }, JSON.stringify(reservation)),
        step('cancel_reservation', { reservation_id: reservation.reservation_id, reason: 'change of plan' }, JSON.stringify({ ...reservation, status: 'cancelled' })),
      ]);
    });
    const { byTool, bindings } = inferFirst(sessions);
    const source = byTool.get('get_reservation_details')?.id;
    const template = `{{(steps.${source}.result | fromjson).reservation_id}}`;
    expect(byTool.get('cancel_reservation')?.parameters.reservation_id).toBe(template);
    expect(bindings).toHaveLength(1);
    // The template reads the result as the tool returns it (text) and as an MCP client parses it (a tree).
    const text = JSON.stringify({ reservation_id: 'ABC123', notes: 'y'.repeat(500) });
    expect(renderTemplate(template, { steps: { [source as string]: { result: text } } })).toBe('ABC123');
    expect(renderTemplate(template, { steps: { [source as string]: { result: JSON.parse(text) } } })).toBe('ABC123');
  });

  it('binds an id found at varying array positions by a key, or makes it an input, never a position', () => {
    const sessions = Array.from({ length: 12 }, (_, i) => {
      const items = [0, 1, 2].map((x) => ({ sku: `sku-${i}-${x}`, item_id: `item-${i * 31 + x}-000` }));
      const pick = i % 3;
      return session([
        step('get_order', { order_id: `#W${5000 + i}`, sku: items[pick].sku }, { order_id: `#W${5000 + i}`, items }),
        step('return_item', { item_id: items[pick].item_id, order_id: `#W${5000 + i}` }, { ok: true }),
      ]);
    });
    const { byTool } = inferFirst(sessions);
    const source = byTool.get('get_order')?.id;
    const itemId = byTool.get('return_item')?.parameters.item_id as string;
    expect(itemId).toBe(`{{(steps.${source}.result.items | find('sku', input.sku)).item_id}}`);
    expect(byTool.get('return_item')?.parameters.order_id).toBe(`{{steps.${source}.result.order_id}}`);
    const rendered = renderTemplate(itemId, {
      input: { sku: 'b' },
      steps: { [source as string]: { result: { items: [{ sku: 'a', item_id: 'i-a' }, { sku: 'b', item_id: 'i-b' }] } } },
    });
    expect(rendered).toBe('i-b');
    // Without a field that tells the element apart, the value is an input.
    const unkeyed = Array.from({ length: 12 }, (_, i) => {
      const reservations = [`R${i}AAAA`, `R${i}BBBB`, `R${i}CCCC`];
      return session([
        step('get_user_details', { user_id: `user_${i}_42` }, JSON.stringify({ name: `User ${i}`, reservations })),
        step('get_reservation_details', { reservation_id: reservations[i === 0 ? 0 : 1 + (i % 2)] }, JSON.stringify({ id: reservations[1] })),
      ]);
    });
    const noKey = inferFirst(unkeyed);
    expect(noKey.byTool.get('get_reservation_details')?.parameters.reservation_id).toBe('{{input.reservation_id}}');
    expect(noKey.bindings).toEqual([]);
    // Even when the same position was picked every time among several, it was a choice, not a rule.
    const first = Array.from({ length: 12 }, (_, i) => {
      const reservations = [`R${i}AAAA`, `R${i}BBBB`, `R${i}CCCC`];
      return session([
        step('get_user_details', { user_id: `user_${i}_42` }, JSON.stringify({ name: `User ${i}`, reservations })),
        step('get_reservation_details', { reservation_id: reservations[0] }, JSON.stringify({ id: reservations[0] })),
      ]);
    });
    const alwaysFirst = inferFirst(first);
    expect(alwaysFirst.byTool.get('get_reservation_details')?.parameters.reservation_id).toBe('{{input.reservation_id}}');
    expect(alwaysFirst.bindings).toEqual([]);
  });

  it('does not bind coincidental matches: small numbers, short codes, values the workflow already had', () => {
    const sessions = Array.from({ length: 12 }, (_, i) => {
      const user = `user_${i}_9000`;
      return session([
        step('get_user', { user_id: user }, { name: `Name ${i}`, seats: (i % 4) + 1, home: ['JFK', 'SEA', 'LAX'][i % 3] }),
        step('get_reservation', { reservation_id: `RSV-${i}-1234` }, { user_id: user, origin: ['JFK', 'SEA', 'LAX'][i % 3] }),
        step('book', { user_id: user, passengers: (i % 4) + 1, origin: ['JFK', 'SEA', 'LAX'][i % 3] }, { ok: true }),
      ]);
    });
    const { byTool, bindings } = inferFirst(sessions);
    const book = byTool.get('book')?.parameters;
    expect(bindings).toEqual([]);
    // The user id was an input before the reservation repeated it: one shared input.
    expect(book?.user_id).toBe(byTool.get('get_user')?.parameters.user_id);
    expect(book?.passengers).toBe('{{input.passengers}}');
    expect(book?.origin).toBe('{{input.origin}}');
  });
});

describe('inferWorkflow: parallel steps only with evidence', () => {
  /** a, then b and c in either order (c first in `reversed` of n sessions), then d. */
  function sessions(n: number, reversed: number, cReadsB: boolean): ClosedSession[] {
    return Array.from({ length: n }, (_, i) => {
      const flight = `HAT${String(100 + i).padStart(4, '0')}`;
      const b = step('search_flights', { origin_city: `City ${i}` }, { flights: [{ n: 'A' }, { n: flight }, { n: 'Z' }].slice(i % 2) });
      // The flight chosen from the search is passed inside a list, as agents book flights.
      const c = step('update_reservation', { flights: [{ flight_number: cReadsB ? flight : `OTHER${i}00`, date: '2024-05-20' }] }, { ok: true });
      return session([step('start', { id: `id-${i}-0000` }), ...(i < reversed ? [c, b] : [b, c]), step('finish')]);
    });
  }
  const parallel = (s: ClosedSession[]) => {
    const c = new PatternCounter({ minSupport: 2, closedTolerance: 0.5 });
    c.addSessions(s);
    const p = c.patterns().find((x) => x.tools.length === 4);
    if (!p) throw new Error('no 4-step pattern');
    const { definition, parallelGroups } = inferWorkflow(p, c.occurrences(p.id));
    const id = (tool: string) => definition.steps.find((x) => x.tool === tool)?.id;
    return parallelGroups.some((g) => g.includes(id('search_flights') as string) && g.includes(id('update_reservation') as string));
  };

  it('runs two steps in parallel only when each order is seen in at least 20 % of the occurrences and 3 sessions', () => {
    expect(parallel(sessions(20, 8, false))).toBe(true);
    expect(parallel(sessions(20, 3, false))).toBe(false); // 15 %
    expect(parallel(sessions(8, 2, false))).toBe(false); // 25 % but 2 sessions
  });

  it('never runs in parallel a step with the step whose result informs it', () => {
    expect(parallel(sessions(20, 10, true))).toBe(false);
  });
});
