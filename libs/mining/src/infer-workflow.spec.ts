import { validateWorkflow } from '@toolpath/workflow';
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
