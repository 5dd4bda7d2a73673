import { computeReadySteps, StepStatus, type StepStates, type WorkflowStep } from './index';

const { Pending, Queued, Running, Completed, Failed, Skipped } = StepStatus;
const step = (id: string, dependsOn: string[] = [], extra: Partial<WorkflowStep> = {}): WorkflowStep => ({ id, tool: 't', parameters: {}, dependsOn, ...extra });

describe('computeReadySteps', () => {
  // a → b → d → e, a → c
  const wf = { steps: [step('a'), step('b', ['a']), step('c', ['a']), step('d', ['b']), step('e', ['d'])] };

  it('starts with the steps that wait for nothing', () => {
    expect(computeReadySteps(wf, {})).toEqual({ ready: ['a'], skip: [], cancel: [], finished: false });
  });

  it('releases dependents once dependencies complete, not while they run or are queued', () => {
    expect(computeReadySteps(wf, { a: Running }).ready).toEqual([]);
    expect(computeReadySteps(wf, { a: Completed }).ready).toEqual(['b', 'c']);
    expect(computeReadySteps(wf, { a: Completed, b: Queued, c: Completed }).ready).toEqual([]);
    expect(computeReadySteps(wf, new Map<string, StepStatus>([['a', Completed], ['b', Completed]])).ready).toEqual(['c', 'd']);
  });

  it('aborts on a failure by default: nothing new starts, pending and queued steps are cancelled', () => {
    const r = computeReadySteps(wf, { a: Completed, b: Failed, c: Running });
    expect(r).toMatchObject({ ready: [], abortedBy: 'b', cancel: ['d', 'e'], finished: false });
    expect(computeReadySteps(wf, { a: Completed, b: Failed, c: Completed })).toMatchObject({ finished: true, outcome: 'FAILED' });
  });

  it('with onFailure continue, skips the dependents transitively and lets other branches finish', () => {
    const tolerant = { steps: wf.steps.map((s) => (s.id === 'b' ? { ...s, onFailure: 'continue' as const } : s)) };
    const r = computeReadySteps(tolerant, { a: Completed, b: Failed, c: Running });
    expect(r.ready).toEqual([]);
    expect(r.skip).toEqual([
      { stepId: 'd', reason: 'dependency b failed' },
      { stepId: 'e', reason: 'dependency d was skipped' },
    ]);
    expect(r.abortedBy).toBeUndefined();
    expect(r.finished).toBe(false);
    expect(computeReadySteps(tolerant, { a: Completed, b: Failed, c: Completed, d: Skipped, e: Skipped })).toMatchObject({
      finished: true,
      outcome: 'COMPLETED',
    });
  });

  it('skips the dependents of a step skipped by its condition', () => {
    expect(computeReadySteps(wf, { a: Completed, b: Skipped }).skip.map((s) => s.stepId)).toEqual(['d', 'e']);
  });

  describe('fallback', () => {
    // main may fail over to backup; report needs main (or its replacement).
    const fb = {
      steps: [step('prep'), step('main', ['prep'], { onFailure: { fallback: 'backup' } }), step('backup', ['prep']), step('report', ['main'])],
    };

    it('keeps the fallback waiting while the step has not failed', () => {
      expect(computeReadySteps(fb, { prep: Completed }).ready).toEqual(['main']);
      expect(computeReadySteps(fb, { prep: Completed, main: Running }).ready).toEqual([]);
    });

    it('skips the fallback when the step completes', () => {
      const r = computeReadySteps(fb, { prep: Completed, main: Completed });
      expect(r.ready).toEqual(['report']);
      expect(r.skip).toEqual([{ stepId: 'backup', reason: 'main completed, so its fallback is not needed' }]);
    });

    it('runs the fallback when the step fails, then releases its dependents', () => {
      const failed = computeReadySteps(fb, { prep: Completed, main: Failed });
      expect(failed).toMatchObject({ ready: ['backup'], skip: [], cancel: [] });
      expect(failed.abortedBy).toBeUndefined();
      expect(computeReadySteps(fb, { prep: Completed, main: Failed, backup: Running }).ready).toEqual([]);
      expect(computeReadySteps(fb, { prep: Completed, main: Failed, backup: Completed }).ready).toEqual(['report']);
    });

    it("applies the fallback's own onFailure when it fails too", () => {
      expect(computeReadySteps(fb, { prep: Completed, main: Failed, backup: Failed })).toMatchObject({
        abortedBy: 'backup',
        cancel: ['report'],
        finished: true,
        outcome: 'FAILED',
      });
      const lenient = { steps: fb.steps.map((s) => (s.id === 'backup' ? { ...s, onFailure: 'continue' as const } : s)) };
      const r = computeReadySteps(lenient, { prep: Completed, main: Failed, backup: Failed });
      expect(r.abortedBy).toBeUndefined();
      expect(r.skip).toEqual([{ stepId: 'report', reason: 'dependency main failed' }]);
      expect(r).toMatchObject({ finished: true, outcome: 'COMPLETED' });
    });

    it('chains fallbacks', () => {
      const chain = { steps: [step('a', [], { onFailure: { fallback: 'b' } }), step('b', [], { onFailure: { fallback: 'c' } }), step('c'), step('after', ['a'])] };
      expect(computeReadySteps(chain, { a: Failed, b: Failed }).ready).toEqual(['c']);
      expect(computeReadySteps(chain, { a: Failed, b: Failed, c: Completed }).ready).toEqual(['after']);
    });
  });

  it('treats a step missing from the states as PENDING', () => {
    const states: StepStates = { a: Pending };
    expect(computeReadySteps(wf, states).ready).toEqual(['a']);
  });
});
