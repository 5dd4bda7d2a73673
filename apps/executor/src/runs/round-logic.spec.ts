import type { WorkflowDefinition, WorkflowStep } from '@toolpath/workflow';
import {
  cancelledMeta,
  compensationsDue,
  decideRound,
  decideStart,
  endedMeta,
  isTerminalRun,
  openSteps,
  outcomeError,
  settledStep,
  templateContext,
  timeoutError,
  type Round,
} from './round-logic';
import { planOf } from './run-plans';
import { pendingStep, type RunMeta, type RunSnapshot, type StepState } from './run-state';

const NOW = Date.parse('2026-01-01T00:00:10.000Z');
const AT = new Date(NOW).toISOString();

type StepSpec = Partial<WorkflowStep> & { id: string };

const definition = (steps: StepSpec[]): WorkflowDefinition => ({
  name: 'w',
  description: '',
  source: 'user',
  steps: steps.map((s) => ({ tool: 'core.transform', parameters: {}, ...s })),
});

const meta = (over: Partial<RunMeta> = {}): RunMeta => ({
  id: 'ex_1',
  tenantId: 't',
  name: 'w',
  status: 'RUNNING',
  input: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: null,
  depth: 0,
  deadline: NOW + 60_000,
  ...over,
});

/** A run of `steps` whose steps are PENDING unless `states` says otherwise. */
function runOf(steps: StepSpec[], states: Record<string, Partial<StepState>> = {}, over: Partial<RunMeta> = {}): RunSnapshot {
  const def = definition(steps);
  return {
    meta: meta(over),
    definition: def,
    steps: Object.fromEntries(def.steps.map((s) => [s.id, { ...pendingStep(), ...states[s.id] }])),
  };
}

const round = (run: RunSnapshot): Round => decideRound(run, planOf(run.definition), NOW);
const moves = (r: Round) => r.moves.map((m) => [m.stepId, m.next.status]);
const apply = (run: RunSnapshot, r: Round): RunSnapshot => {
  for (const m of r.moves) run.steps[m.stepId] = m.next;
  return run;
};

const done = (result: unknown = null): Partial<StepState> => ({ status: 'COMPLETED', attempts: 1, startedAt: AT, endedAt: AT, durationMs: 1, result });
const failed = (error = 'boom'): Partial<StepState> => ({ status: 'FAILED', attempts: 1, startedAt: AT, endedAt: AT, durationMs: 1, error });

describe('decideRound: ready steps', () => {
  it('queues every step whose dependencies are met, from PENDING only, and leaves the others', () => {
    const r = round(runOf([{ id: 'a' }, { id: 'b' }, { id: 'c', dependsOn: ['a'] }]));
    expect(moves(r)).toEqual([
      ['a', 'QUEUED'],
      ['b', 'QUEUED'],
    ]);
    expect(r.moves.every((m) => m.from.length === 1 && m.from[0] === 'PENDING' && !m.again)).toBe(true);
    expect(r.finished).toBeUndefined();
  });

  it('queues a dependent once its dependency completed, and nothing while a step is in flight', () => {
    const steps = [{ id: 'a' }, { id: 'c', dependsOn: ['a'] }];
    expect(moves(round(runOf(steps, { a: { status: 'RUNNING' } })))).toEqual([]);
    expect(moves(round(runOf(steps, { a: done() })))).toEqual([['c', 'QUEUED']]);
  });

  it('says the run is over, COMPLETED, when every step completed', () => {
    const r = round(runOf([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }], { a: done(), b: done() }));
    expect(r).toEqual({ moves: [], finished: { outcome: 'COMPLETED' } });
  });
});

describe('decideRound: conditions', () => {
  const steps = [{ id: 'a' }, { id: 'b', dependsOn: ['a'], condition: 'steps.a.result.n > 1' }, { id: 'c', dependsOn: ['b'] }];

  it('queues a step whose condition is true', () => {
    expect(moves(round(runOf(steps, { a: done({ n: 2 }) })))).toEqual([['b', 'QUEUED']]);
  });

  it('skips a step whose condition is false, asks for another look, and then skips its dependents', () => {
    const run = runOf(steps, { a: done({ n: 1 }) });
    const first = round(run);
    expect(first.moves).toEqual([
      { stepId: 'b', from: ['PENDING'], next: { ...pendingStep(), status: 'SKIPPED', endedAt: AT, reason: 'condition was false' }, again: true },
    ]);
    const second = round(apply(run, first));
    expect(second.moves).toEqual([{ stepId: 'c', from: ['PENDING'], next: { ...pendingStep(), status: 'SKIPPED', endedAt: AT, reason: 'dependency b was skipped' } }]);
    expect(second.finished).toEqual({ outcome: 'COMPLETED' });
  });

  it('fails a step whose condition cannot be evaluated, and asks for another look', () => {
    const r = round(runOf([{ id: 'a', condition: 'input.count > 1' }]));
    expect(r.moves).toHaveLength(1);
    expect(r.moves[0]).toMatchObject({ stepId: 'a', from: ['PENDING'], again: true, next: { status: 'FAILED', endedAt: AT } });
    expect(r.moves[0].next.error).toMatch(/^condition could not be evaluated: no value at input\.count/);
  });
});

describe('decideRound: fallback', () => {
  const steps: StepSpec[] = [{ id: 'p', onFailure: { fallback: 'f' } }, { id: 'f' }, { id: 'd', dependsOn: ['p'] }];

  it('waits for the primary, and skips the fallback when the primary completed', () => {
    expect(moves(round(runOf(steps)))).toEqual([['p', 'QUEUED']]);
    expect(round(runOf(steps, { p: done() })).moves.map((m) => [m.stepId, m.next.status, m.next.reason])).toEqual([
      ['f', 'SKIPPED', 'p completed, so its fallback is not needed'],
      ['d', 'QUEUED', undefined],
    ]);
  });

  it('runs the fallback when the primary failed, and the dependents once it completed, reading its result', () => {
    expect(moves(round(runOf(steps, { p: failed() })))).toEqual([['f', 'QUEUED']]);
    const recovered = runOf(steps, { p: failed(), f: done({ via: 'fallback' }) });
    const r = round(recovered);
    expect(moves(r)).toEqual([['d', 'QUEUED']]);
    expect(r.finished).toBeUndefined();
    const ctx = templateContext(recovered) as { steps: Record<string, { result: unknown; error: unknown }> };
    expect(ctx.steps.p).toMatchObject({ result: { via: 'fallback' }, error: 'boom' });
    expect(round(runOf(steps, { p: failed(), f: done(), d: done() })).finished).toEqual({ outcome: 'COMPLETED' });
  });

  it('aborts the run when the fallback fails too', () => {
    const r = round(runOf(steps, { p: failed(), f: failed('also down') }));
    expect(moves(r)).toEqual([['d', 'CANCELLED']]);
    expect(r.finished).toEqual({ outcome: 'FAILED', abortedBy: 'f' });
  });
});

describe('decideRound: continue on error', () => {
  const steps: StepSpec[] = [{ id: 'a', onFailure: 'continue' }, { id: 'b', dependsOn: ['a'] }, { id: 'c' }];

  it('skips the dependents of the failed step, lets the other branches run, and completes the run', () => {
    const r = round(runOf(steps, { a: failed(), c: { status: 'RUNNING', attempts: 1, startedAt: AT } }));
    expect(r.moves.map((m) => [m.stepId, m.next.status, m.next.reason])).toEqual([['b', 'SKIPPED', 'dependency a failed']]);
    expect(r.finished).toBeUndefined();
    expect(round(runOf(steps, { a: failed(), b: { status: 'SKIPPED' }, c: done() })).finished).toEqual({ outcome: 'COMPLETED' });
  });
});

describe('decideRound: abort', () => {
  const steps: StepSpec[] = [{ id: 'a' }, { id: 'b' }, { id: 'c', dependsOn: ['a'] }, { id: 'q' }];

  it('cancels what has not started, stops what runs on other branches, then ends the run FAILED', () => {
    const run = runOf(steps, {
      a: failed('down'),
      b: { status: 'RUNNING', attempts: 1, startedAt: new Date(NOW - 50).toISOString() },
      q: { status: 'QUEUED' },
    });
    const first = round(run);
    expect(first.moves.map((m) => [m.stepId, m.from, m.next.status, m.again ?? false])).toEqual([
      ['q', ['PENDING', 'QUEUED'], 'CANCELLED', false],
      ['c', ['PENDING', 'QUEUED'], 'CANCELLED', false],
      ['b', ['RUNNING'], 'CANCELLED', true],
    ]);
    expect(first.moves[2].next).toMatchObject({ endedAt: AT, durationMs: 50, reason: 'run aborted: step a failed' });
    // Steps were still in flight when the round looked: the run ends at the next look.
    expect(first.finished).toBeUndefined();
    const second = round(apply(run, first));
    expect(second).toEqual({ moves: [], finished: { outcome: 'FAILED', abortedBy: 'a' } });
    expect(outcomeError(run, second.finished!)).toBe('step a failed: down');
    expect(outcomeError(run, { outcome: 'COMPLETED' })).toBeUndefined();
  });
});

describe('decideStart', () => {
  it('takes the first rounds in memory: each step changed once, the run already over when nothing can run', () => {
    const run = runOf([{ id: 'a', condition: 'input.go' }, { id: 'b', dependsOn: ['a'] }], {}, { input: { go: false } });
    const start = decideStart(run, planOf(run.definition), NOW);
    expect(start).toEqual({ changed: ['a', 'b'], finished: { outcome: 'COMPLETED' } });
    expect(run.steps.a.status).toBe('SKIPPED');
    expect(run.steps.b.status).toBe('SKIPPED');
    expect(openSteps(run)).toBe(0);
  });

  it('queues the roots and leaves the run open', () => {
    const run = runOf([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }]);
    expect(decideStart(run, planOf(run.definition), NOW)).toEqual({ changed: ['a'] });
    expect(openSteps(run)).toBe(2);
  });
});

describe('compensation', () => {
  const steps: StepSpec[] = [
    { id: 'a', compensate: { tool: 'undo.a', parameters: {} } },
    { id: 'b', dependsOn: ['a'], compensate: { tool: 'undo.b', parameters: {} } },
    { id: 'c', dependsOn: ['a'] },
    { id: 'd', dependsOn: ['b'], compensate: { tool: 'undo.d', parameters: {} } },
  ];

  it('undoes the completed steps that declare it, dependents first, each at most once', () => {
    const run = runOf(steps, { a: done(), b: done(), c: done(), d: failed() }, { status: 'FAILED' });
    expect(compensationsDue(run)).toEqual(['b', 'a']);
    run.meta.compensations = [{ stepId: 'b', tool: 'undo.b', ok: true }];
    expect(compensationsDue(run)).toEqual(['a']);
    run.meta.compensations.push({ stepId: 'a', tool: 'undo.a', ok: false, error: 'x' });
    expect(compensationsDue(run)).toEqual([]);
  });
});

describe('cancel and timeout', () => {
  it('a cancelled run ends CANCELLED now, with the reason as its error', () => {
    expect(cancelledMeta(meta(), 'cancelled', new Date(NOW))).toEqual({ ...meta(), status: 'CANCELLED', endedAt: AT, error: 'cancelled' });
    expect(isTerminalRun('CANCELLED')).toBe(true);
    expect(isTerminalRun('RUNNING')).toBe(false);
  });

  it('a timed-out run fails with how long it was given, from its start or else its creation', () => {
    expect(timeoutError(meta({ startedAt: '2026-01-01T00:00:01.000Z', deadline: Date.parse('2026-01-01T00:00:01.400Z') }))).toBe('run timed out after 400 ms');
    expect(timeoutError(meta({ startedAt: null, deadline: Date.parse('2026-01-01T00:00:00.250Z') }))).toBe('run timed out after 250 ms');
    expect(endedMeta(meta(), 'FAILED', new Date(NOW), 'run timed out after 400 ms')).toEqual({ ...meta(), status: 'FAILED', endedAt: AT, error: 'run timed out after 400 ms' });
    expect(endedMeta(meta(), 'FAILED', new Date(NOW), 'step a failed: x', 'a')).toMatchObject({ abortedBy: 'a' });
    expect(endedMeta(meta(), 'COMPLETED', new Date(NOW))).not.toHaveProperty('error');
  });

  it('settles a live step at the end of its run: its duration from its start, none if it never started', () => {
    const running: StepState = { ...pendingStep(), status: 'RUNNING', attempts: 1, startedAt: new Date(NOW - 300).toISOString(), owner: 'x' };
    expect(settledStep(running, 'CANCELLED', NOW, 'run timed out')).toEqual({ ...running, status: 'CANCELLED', endedAt: AT, durationMs: 300, reason: 'run timed out' });
    expect(settledStep(pendingStep(), 'CANCELLED', NOW, 'cancelled')).toEqual({ ...pendingStep(), status: 'CANCELLED', endedAt: AT, durationMs: null, reason: 'cancelled' });
    // A start after the end (clocks of two executors) never gives a negative duration.
    expect(settledStep({ ...running, startedAt: new Date(NOW + 5).toISOString() }, 'CANCELLED', NOW, 'r').durationMs).toBe(0);
  });
});
