import {
  ancestorsOf,
  compensationOrder,
  criticalPath,
  descendantsOf,
  topologicalLevels,
  WorkflowCycleError,
  type WorkflowStep,
} from './index';

const step = (id: string, dependsOn: string[] = [], extra: Partial<WorkflowStep> = {}): WorkflowStep => ({ id, tool: 't', parameters: {}, dependsOn, ...extra });

// B and C depend on A, D on both, E on D.
const diamond = { steps: [step('A'), step('B', ['A']), step('C', ['A']), step('D', ['B', 'C']), step('E', ['D'])] };

describe('topologicalLevels', () => {
  it('groups steps that can run in parallel', () => {
    expect(topologicalLevels(diamond)).toEqual([['A'], ['B', 'C'], ['D'], ['E']]);
  });

  it('keeps definition order inside a level, whatever the input order', () => {
    const wf = { steps: [step('z', ['a']), step('y'), step('a'), step('x', ['y'])] };
    expect(topologicalLevels(wf)).toEqual([['y', 'a'], ['z', 'x']]);
  });

  it('puts a fallback after the step it replaces', () => {
    const wf = { steps: [step('main', [], { onFailure: { fallback: 'backup' } }), step('backup'), step('after', ['main'])] };
    expect(topologicalLevels(wf)).toEqual([['main'], ['backup', 'after']]);
  });

  it('throws a WorkflowCycleError with the path', () => {
    const wf = { steps: [step('a', ['c']), step('b', ['a']), step('c', ['b'])] };
    expect(() => topologicalLevels(wf)).toThrow(WorkflowCycleError);
    expect(() => topologicalLevels(wf)).toThrow('dependency cycle: a → c → b → a');
  });

  it('handles a 500-step chain and a 500-step fan-out without recursion', () => {
    const chain = { steps: Array.from({ length: 500 }, (_, i) => step(`s${i}`, i > 0 ? [`s${i - 1}`] : [])) };
    expect(topologicalLevels(chain)).toHaveLength(500);
    const fan = { steps: [step('root'), ...Array.from({ length: 499 }, (_, i) => step(`leaf${i}`, ['root']))] };
    expect(topologicalLevels(fan)[1]).toHaveLength(499);
  });
});

describe('ancestorsOf / descendantsOf', () => {
  it('follows dependencies transitively', () => {
    expect([...ancestorsOf(diamond, 'E')].sort()).toEqual(['A', 'B', 'C', 'D']);
    expect([...ancestorsOf(diamond, 'B')]).toEqual(['A']);
    expect(ancestorsOf(diamond, 'A').size).toBe(0);
    expect([...descendantsOf(diamond, 'B')].sort()).toEqual(['D', 'E']);
  });

  it('counts the failed step as an ancestor of its fallback', () => {
    const wf = { steps: [step('p', [], { onFailure: { fallback: 'f' } }), step('f')] };
    expect([...ancestorsOf(wf, 'f')]).toEqual(['p']);
  });

  it('throws on an unknown step', () => {
    expect(() => ancestorsOf(diamond, 'nope')).toThrow('unknown step "nope"');
  });
});

describe('criticalPath', () => {
  it('finds the longest chain by duration', () => {
    const result = criticalPath(diamond, { A: 100, B: 50, C: 300, D: 10, E: 20 });
    expect(result).toEqual({ lengthMs: 430, stepIds: ['A', 'C', 'D', 'E'], totalMs: 480 });
  });

  it('accepts a Map, and counts missing or invalid durations as 0', () => {
    const result = criticalPath(diamond, new Map([['B', 70], ['C', Number.NaN]]));
    expect(result.lengthMs).toBe(70);
    expect(result.stepIds).toEqual(['A', 'B', 'D', 'E']);
    expect(criticalPath({ steps: [] }, {})).toEqual({ lengthMs: 0, stepIds: [], totalMs: 0 });
  });

  it('equals the sum for a chain and the maximum for independent steps', () => {
    const independent = { steps: [step('a'), step('b'), step('c')] };
    expect(criticalPath(independent, { a: 100, b: 100, c: 100 })).toMatchObject({ lengthMs: 100, totalMs: 300 });
  });
});

describe('compensationOrder', () => {
  it('undoes completed steps with a compensation, dependents first', () => {
    const undo = { compensate: { tool: 'undo', parameters: {} } };
    const wf = { steps: [step('a', [], undo), step('b', ['a'], undo), step('c', ['b']), step('d', ['c'], undo), step('e', [], undo)] };
    expect(compensationOrder(wf, ['a', 'b', 'c', 'e'])).toEqual(['b', 'e', 'a']);
  });
});
