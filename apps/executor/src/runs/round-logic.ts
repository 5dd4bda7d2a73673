import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from '@toolpath/contracts';
import { compensationOrder, computeReadySteps, evaluateCondition, stepGraphOf, type StepStatus, type TemplateContext } from '@toolpath/workflow';
import type { RunPlan } from './run-plans';
import { isLiveStep, type RunMeta, type RunSnapshot, type StepState } from './run-state';

/**
 * What the scheduler and the finalizer decide about a run from its state alone: no Redis, no
 * queue, no clock but the `now` they are given. The services apply these decisions (each move
 * guarded in Redis); the decisions themselves are tested here without any infrastructure.
 */

export const isTerminalRun = (status: ExecutionStatus): boolean => TERMINAL_EXECUTION_STATUSES.has(status);

/**
 * What templates see of a run: the input and the view of each step in `run.steps` (all of them,
 * or, for a step attempt, only the steps its templates may read: see RunPlan.reads). A step
 * recovered by its fallback shows the fallback's result as its own, so dependents read
 * `steps.<step>.result` either way.
 */
export function templateContext(run: RunSnapshot): TemplateContext {
  const graph = stepGraphOf(run.definition);
  const steps: Record<string, unknown> = {};
  for (const [id, st] of Object.entries(run.steps)) {
    steps[id] = { status: st.status, result: st.result ?? null, error: st.error ?? null, attempts: st.attempts };
  }
  for (const [id, st] of Object.entries(run.steps)) {
    if (st.status !== 'FAILED') continue;
    const i = graph.indexOf.get(id);
    const f = i === undefined ? -1 : graph.fallback[i];
    const fallback = f === -1 ? undefined : run.steps[graph.ids[f]];
    if (fallback?.status === 'COMPLETED') steps[id] = { ...(steps[id] as object), result: fallback.result ?? null };
  }
  return { input: run.meta.input, steps };
}

/** One guarded step change the scheduler wants. */
export interface Move {
  stepId: string;
  from: readonly StepStatus[];
  next: StepState;
  /** Re-read the run after this move (it can change what is ready). */
  again?: boolean;
}

/** How a run ended: COMPLETED, or FAILED (with the step whose failure aborted it, if one did). */
export interface RunOutcome {
  outcome: 'COMPLETED' | 'FAILED';
  abortedBy?: string;
}

/** What one look at a run decides. */
export interface Round {
  moves: Move[];
  finished?: RunOutcome;
}

/**
 * The decisions of one round, from the run's state alone: skip and cancel what can no longer run,
 * evaluate conditions, queue what is ready, stop steps still running on other branches when a
 * failure aborts the run, and say when the run is over.
 */
export function decideRound(run: RunSnapshot, plan: RunPlan, now = Date.now()): Round {
  const states: Record<string, StepStatus> = {};
  for (const [id, st] of Object.entries(run.steps)) states[id] = st.status;
  const r = computeReadySteps(run.definition, states);
  const at = new Date(now).toISOString();
  const moves: Move[] = [];
  for (const s of r.skip) moves.push({ stepId: s.stepId, from: ['PENDING'], next: { ...run.steps[s.stepId], status: 'SKIPPED', endedAt: at, reason: s.reason } });
  for (const stepId of r.cancel) moves.push({ stepId, from: ['PENDING', 'QUEUED'], next: { ...run.steps[stepId], status: 'CANCELLED', endedAt: at } });
  if (r.abortedBy !== undefined) {
    // Steps still running on other branches are stopped rather than awaited: the run is over.
    const reason = `run aborted: step ${r.abortedBy} failed`;
    for (const s of run.definition.steps) {
      const st = run.steps[s.id];
      if (st.status !== 'RUNNING') continue;
      const durationMs = st.startedAt ? now - Date.parse(st.startedAt) : null;
      moves.push({ stepId: s.id, from: ['RUNNING'], next: { ...st, status: 'CANCELLED', endedAt: at, durationMs, reason }, again: true });
    }
  }
  const context = r.ready.length > 0 ? templateContext(run) : undefined;
  for (const stepId of r.ready) {
    const step = plan.step.get(stepId)!;
    if (step.condition !== undefined) {
      let pass: boolean;
      try {
        pass = evaluateCondition(step.condition, context!);
      } catch (err) {
        moves.push({
          stepId,
          from: ['PENDING'],
          next: { ...run.steps[stepId], status: 'FAILED', endedAt: at, error: `condition could not be evaluated: ${(err as Error).message}` },
          again: true,
        });
        continue;
      }
      if (!pass) {
        moves.push({ stepId, from: ['PENDING'], next: { ...run.steps[stepId], status: 'SKIPPED', endedAt: at, reason: 'condition was false' }, again: true });
        continue;
      }
    }
    moves.push({ stepId, from: ['PENDING'], next: { ...run.steps[stepId], status: 'QUEUED' } });
  }
  const round: Round = { moves };
  if (r.finished) round.finished = r.abortedBy !== undefined ? { outcome: 'FAILED', abortedBy: r.abortedBy } : { outcome: r.outcome ?? 'COMPLETED' };
  return round;
}

/** Rounds a run new to everyone may take in memory before it is written (a bound, never reached by a valid DAG). */
const MAX_START_ROUNDS = 10_000;

/**
 * The first rounds of a run nobody else knows yet, applied to `run.steps` in memory (so the run
 * is written with its first steps already QUEUED): rounds follow each other while a move asks for
 * another look. Returns the steps changed (each once, in the order first changed) and, if the
 * run is already over, how it ended.
 */
export function decideStart(run: RunSnapshot, plan: RunPlan, now: number): { changed: string[]; finished?: RunOutcome } {
  const changed = new Set<string>();
  let finished: RunOutcome | undefined;
  for (let round = 0; round < MAX_START_ROUNDS; round++) {
    const r = decideRound(run, plan, now);
    for (const m of r.moves) {
      run.steps[m.stepId] = m.next;
      changed.add(m.stepId);
    }
    finished = r.finished;
    if (!r.moves.some((m) => m.again)) break;
  }
  return finished ? { changed: [...changed], finished } : { changed: [...changed] };
}

/** The number of steps not yet in a terminal status (the run's `open` count). */
export function openSteps(run: RunSnapshot): number {
  return run.definition.steps.filter((s) => isLiveStep(run.steps[s.id].status)).length;
}

/** The run's meta once it has ended: its status and end, and why when it failed. */
export function endedMeta(meta: RunMeta, outcome: ExecutionStatus, at: Date, error?: string, abortedBy?: string): RunMeta {
  const ended: RunMeta = { ...meta, status: outcome, endedAt: at.toISOString() };
  if (error !== undefined) ended.error = error;
  if (abortedBy !== undefined) ended.abortedBy = abortedBy;
  return ended;
}

/** The error of a run that ended as a round decided: the failure of the step that aborted it. */
export function outcomeError(run: RunSnapshot, finished: RunOutcome): string | undefined {
  const failedBy = finished.abortedBy;
  return failedBy ? `step ${failedBy} failed: ${run.steps[failedBy]?.error ?? 'unknown error'}` : undefined;
}

/** A cancelled run's meta: CANCELLED now, the reason as its error. */
export function cancelledMeta(meta: RunMeta, reason: string, at: Date): RunMeta {
  return { ...meta, status: 'CANCELLED', endedAt: at.toISOString(), error: reason };
}

/** The error of a run whose deadline passed: how long it was given. */
export function timeoutError(meta: RunMeta): string {
  return `run timed out after ${meta.deadline - Date.parse(meta.startedAt ?? meta.createdAt)} ms`;
}

/**
 * A live step of an ended run, settled to `status`: it ends when its run did (`endMs`), not
 * later, and its duration counts from its start if it had one.
 */
export function settledStep(st: StepState, status: StepStatus, endMs: number, reason: string): StepState {
  const durationMs = st.startedAt ? Math.max(0, endMs - Date.parse(st.startedAt)) : null;
  return { ...st, status, endedAt: new Date(endMs).toISOString(), durationMs, reason };
}

/**
 * The completed steps of a failed run still to compensate, in the order to undo them (a step
 * before the steps it depended on): those that declare `compensate` and have no record yet, so
 * each is undone at most once.
 */
export function compensationsDue(run: RunSnapshot): string[] {
  const done = new Set((run.meta.compensations ?? []).map((c) => c.stepId));
  const completed = run.definition.steps.filter((s) => run.steps[s.id].status === 'COMPLETED').map((s) => s.id);
  return compensationOrder(run.definition, completed).filter((id) => !done.has(id));
}
