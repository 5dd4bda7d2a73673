import type { ExecutionDocument } from './execution.repository';
import { storableRow } from './storable-row';
import { findUnstorable } from '@toolpath/contracts';

const NUL = String.fromCharCode(0);

const doc = (): ExecutionDocument => ({
  _id: 'ex_1',
  tenantId: 'acme',
  name: 'run',
  status: 'COMPLETED',
  input: { grid: [[1]] },
  steps: [
    { id: 'a', tool: 't', status: 'COMPLETED', attempts: 1, startedAt: null, endedAt: null, durationMs: 1, result: { ok: [1, [2]] } },
    { id: 'b', tool: 't', status: 'FAILED', attempts: 1, startedAt: null, endedAt: null, durationMs: 1, error: `bad${NUL}` },
    { id: 'c', tool: 't', status: 'COMPLETED', attempts: 1, startedAt: null, endedAt: null, durationMs: 1, result: { fine: true } },
  ],
  startedAt: null,
  endedAt: null,
  durationMs: null,
  parallelSpeedup: null,
  definition: { name: 'run', description: '', source: 'user', steps: [{ id: 'a', tool: 't', parameters: {} }] } as unknown as ExecutionDocument['definition'],
  depth: 0,
  updatedAt: new Date(0),
});

describe('storableRow', () => {
  it('keeps refused values as their JSON text and leaves the rest, saying so', () => {
    const row = storableRow(doc(), 'text', 5, 'nested arrays are not supported');
    expect(findUnstorable(row)).toBeUndefined();
    expect(row.input).toEqual({ unstorableJson: '{"grid":[[1]]}' });
    expect(row.steps[0].result).toBe('{"ok":[1,[2]]}');
    expect(row.steps[1].error).toBe('bad\\u0000');
    expect(row.steps[2].result).toEqual({ fine: true });
    expect(row.error).toBe("the run's row could not be stored as it was after 5 tries (nested arrays are not supported): steps.a.result, input kept as JSON text");
  });

  it('leaves a storable row as it is', () => {
    const ok = { ...doc(), input: {}, steps: [doc().steps[2]] };
    expect(storableRow(ok, 'text', 5, 'down')).toEqual(ok);
  });

  it('keeps only status, steps and errors at the minimal level', () => {
    const row = storableRow(doc(), 'minimal', 10, 'x');
    expect(row.input).toEqual({});
    expect(row.steps.map((s) => s.result)).toEqual([undefined, undefined, undefined]);
    expect(row.steps.map((s) => s.status)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);
    expect(row.error).toMatch(/after 10 tries \(x\): stored without steps\.a\.result, steps\.c\.result, input$/);
  });
});
