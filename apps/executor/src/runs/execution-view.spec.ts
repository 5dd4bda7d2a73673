import { toExecutionView } from './execution-view';
import { pendingStep, type RunSnapshot } from './run-state';
import { templateContext } from './round-logic';

const run = (): RunSnapshot => ({
  meta: {
    id: 'ex_1',
    tenantId: 't',
    name: 'w',
    status: 'COMPLETED',
    input: { x: 1 },
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:00.100Z',
    depth: 0,
    deadline: 0,
  },
  definition: {
    name: 'w',
    description: '',
    source: 'user',
    steps: [
      { id: 'p', tool: 'x', parameters: {}, onFailure: { fallback: 'f' } },
      { id: 'f', tool: 'y', parameters: {} },
    ],
  },
  steps: {
    p: { ...pendingStep(), status: 'FAILED', attempts: 1, error: 'down', durationMs: 90, busyMs: 90 },
    f: { ...pendingStep(), status: 'COMPLETED', attempts: 1, result: { ok: 1 }, durationMs: 90, busyMs: 90 },
  },
});

describe('toExecutionView', () => {
  it('reports wall time and the parallel speedup (busy time / wall time)', () => {
    const v = toExecutionView(run());
    expect(v.durationMs).toBe(100);
    expect(v.parallelSpeedup).toBe(1.8);
    expect(v.steps.map((s) => [s.id, s.status])).toEqual([
      ['p', 'FAILED'],
      ['f', 'COMPLETED'],
    ]);
  });
});

describe('templateContext', () => {
  it('shows a recovered step with its fallback result', () => {
    const ctx = templateContext(run()) as { steps: Record<string, { result: unknown; error: unknown }> };
    expect(ctx.steps.p.result).toEqual({ ok: 1 });
    expect(ctx.steps.p.error).toBe('down');
  });
});
