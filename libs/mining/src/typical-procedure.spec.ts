import { validateWorkflow } from '@toolpath/workflow';
import { procedureKey, procedureWorkflow, typicalProcedure } from './typical-procedure';

describe('typicalProcedure', () => {
  it('is the medoid of the similar sessions, not the nearest one alone', () => {
    const p = typicalProcedure([
      { tools: ['a', 'x', 'y'], weight: 1 }, // the nearest intent, an unusual procedure
      { tools: ['a', 'b', 'c'], weight: 0.9 },
      { tools: ['a', 'b', 'c', 'd'], weight: 0.8 },
      { tools: ['a', 'b', 'c'], weight: 0.7 },
    ]);
    expect(p).toMatchObject({ tools: ['a', 'b', 'c'], followedBy: 2, neighbours: 4 });
    // (1 × 1/5 + 0.9 + 0.8 × 3/4 + 0.7) / 3.4
    expect(p!.expectedOverlap).toBeCloseTo((0.2 + 0.9 + 0.6 + 0.7) / 3.4, 10);
  });

  it('prefers, at equal overlap, the sequence more neighbours made', () => {
    const p = typicalProcedure([
      { tools: ['b', 'a'], weight: 1 },
      { tools: ['a', 'b'], weight: 1 },
      { tools: ['a', 'b'], weight: 1 },
    ]);
    expect(p?.tools).toEqual(['a', 'b']);
  });

  it('takes a run of one tool as one step, so procedures differing only in repeats are one', () => {
    const p = typicalProcedure([
      { tools: ['find', 'get', 'get', 'get', 'search', 'search', 'book'], weight: 1 },
      { tools: ['find', 'get', 'search', 'book'], weight: 0.5 },
      { tools: ['find', 'get', 'x', 'book'], weight: 0.9 },
    ]);
    expect(p).toMatchObject({ tools: ['find', 'get', 'search', 'book'], followedBy: 2 });
  });

  it('has nothing to offer without weighted, non-empty neighbours', () => {
    expect(typicalProcedure([])).toBeUndefined();
    expect(typicalProcedure([{ tools: [], weight: 1 }, { tools: ['a'], weight: 0 }])).toBeUndefined();
  });
});

describe('procedureWorkflow', () => {
  it('is a valid sequential draft with stable ids, loops kept as repeated steps', () => {
    const w = procedureWorkflow({ tools: ['search', 'search', 'book flight'], expectedOverlap: 0.5, followedBy: 1, neighbours: 4 });
    expect(validateWorkflow(w).ok).toBe(true);
    expect(w.steps.map((s) => [s.id, s.dependsOn ?? []])).toEqual([
      ['s1_search', []],
      ['s2_search', ['s1_search']],
      ['s3_book_flight', ['s2_search']],
    ]);
    expect(w.id).toBe(`procedure-${procedureKey(['search', 'search', 'book flight'])}`);
    expect(procedureKey(['a', 'b'])).not.toBe(procedureKey(['ab']));
  });
});
