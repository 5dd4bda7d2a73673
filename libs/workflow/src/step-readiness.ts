import { stepGraphOf, topologicalOrder, type GraphStep, type WorkflowLike } from './dag';
import { StepStatus } from './step-status';

/** Current state of each step; a step that is not listed is PENDING. */
export type StepStates = Readonly<Record<string, StepStatus | undefined>> | ReadonlyMap<string, StepStatus>;

export interface SkippedStep {
  stepId: string;
  reason: string;
}

export interface StepReadiness {
  /** PENDING steps that may start now (evaluate their condition, then queue or skip them). */
  ready: string[];
  /** PENDING steps that can never run: mark them SKIPPED (already propagated transitively). */
  skip: SkippedStep[];
  /** When the run aborts: PENDING and QUEUED steps to mark CANCELLED. RUNNING ones are left to the caller. */
  cancel: string[];
  /** The step whose unhandled failure aborts the run. */
  abortedBy?: string;
  /** Nothing is PENDING, QUEUED or RUNNING once `skip` and `cancel` are applied. */
  finished: boolean;
  /** Set when finished: FAILED if the run aborted, else COMPLETED (tolerated failures included). */
  outcome?: 'COMPLETED' | 'FAILED';
}

type Resolution = { kind: 'ok' | 'wait' | 'blocked' } | { kind: 'abort'; by: number };

const GONE = new Set<StepStatus>([StepStatus.Skipped, StepStatus.Cancelled]);
const IN_FLIGHT = new Set<StepStatus>([StepStatus.Pending, StepStatus.Queued, StepStatus.Running]);

/**
 * Decides what the scheduler does next, from the states alone (call it after every change).
 *
 * A dependency lets its dependents run when it is COMPLETED, or FAILED and recovered by its
 * fallback. Otherwise, by the failed step's `onFailure`:
 * - `abort` (default): the run aborts; nothing new starts, PENDING/QUEUED steps are cancelled.
 * - `continue`: the failure is tolerated; its dependents are SKIPPED, and so on transitively
 *   (a step whose dependency is SKIPPED or CANCELLED is SKIPPED), while unrelated branches go on.
 * - `{ fallback: F }`: F is an ordinary step of the definition that also waits for the failing
 *   step P. F is SKIPPED when P completes and becomes ready when P fails (and F's own
 *   dependencies allow). Dependents of P wait for F: if F completes, P counts as recovered and
 *   they run (the executor should expose F's result as `steps.P.result`); if F fails, F's own
 *   `onFailure` decides (fallbacks chain); if F is skipped or cancelled, P's failure aborts.
 * A step whose condition is false is SKIPPED by the executor, which skips its dependents too.
 */
export function computeReadySteps(workflow: WorkflowLike<GraphStep>, states: StepStates): StepReadiness {
  const graph = stepGraphOf(workflow);
  const order = topologicalOrder(graph);
  const stateOf = (id: string): StepStatus | undefined =>
    states instanceof Map ? states.get(id) : Object.prototype.hasOwnProperty.call(states, id) ? (states as Record<string, StepStatus>)[id] : undefined;
  const work: StepStatus[] = graph.ids.map((id) => stateOf(id) ?? StepStatus.Pending);

  /** How a FAILED step's failure resolves, following its fallback chain; `by` is the step that decided to abort. */
  const resolve = (failed: number): Resolution => {
    let i = failed;
    for (;;) {
      const f = graph.fallback[i];
      if (f === -1) return workflow.steps[i].onFailure === 'continue' ? { kind: 'blocked' } : { kind: 'abort', by: i };
      const s = work[f];
      if (s === StepStatus.Completed) return { kind: 'ok' };
      if (GONE.has(s)) return { kind: 'abort', by: i };
      if (s !== StepStatus.Failed) return { kind: 'wait' };
      i = f;
    }
  };

  const verdict = (s: number): { kind: 'ready' | 'wait' } | { kind: 'skip'; reason: string } => {
    let waiting = false;
    const primary = graph.fallbackFor[s];
    for (const d of graph.dependencies[s]) {
      const st = work[d];
      const id = graph.ids[d];
      if (d === primary) {
        if (st === StepStatus.Completed) return { kind: 'skip', reason: `${id} completed, so its fallback is not needed` };
        if (GONE.has(st)) return { kind: 'skip', reason: `${id}, which this step is the fallback of, was ${st.toLowerCase()}` };
        if (st !== StepStatus.Failed) waiting = true;
        continue;
      }
      if (st === StepStatus.Completed) continue;
      if (GONE.has(st)) return { kind: 'skip', reason: `dependency ${id} was ${st.toLowerCase()}` };
      if (st === StepStatus.Failed) {
        const r = resolve(d).kind;
        if (r === 'blocked' || r === 'abort') return { kind: 'skip', reason: `dependency ${id} failed` };
        if (r === 'wait') waiting = true;
        continue;
      }
      waiting = true;
    }
    return { kind: waiting ? 'wait' : 'ready' };
  };

  let skip: SkippedStep[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of order) {
      if (work[s] !== StepStatus.Pending) continue;
      const v = verdict(s);
      if (v.kind === 'skip') {
        work[s] = StepStatus.Skipped;
        skip.push({ stepId: graph.ids[s], reason: v.reason });
        changed = true;
      }
    }
  }

  // Skipping can decide an abort (a fallback that will never run), so it is checked after.
  let abortedBy: string | undefined;
  for (const s of order) {
    const r = work[s] === StepStatus.Failed ? resolve(s) : undefined;
    if (r?.kind === 'abort') {
      abortedBy = graph.ids[r.by];
      break;
    }
  }

  const ready: string[] = [];
  const cancel: string[] = [];
  if (abortedBy !== undefined) {
    // An aborted run cancels what has not started, rather than skipping it.
    skip = [];
    for (const s of order) {
      const original = stateOf(graph.ids[s]) ?? StepStatus.Pending;
      work[s] = original;
      if (original === StepStatus.Pending || original === StepStatus.Queued) {
        work[s] = StepStatus.Cancelled;
        cancel.push(graph.ids[s]);
      }
    }
  } else {
    for (const s of order) if (work[s] === StepStatus.Pending && verdict(s).kind === 'ready') ready.push(graph.ids[s]);
  }

  const finished = !work.some((s) => IN_FLIGHT.has(s));
  const result: StepReadiness = { ready, skip, cancel, finished };
  if (abortedBy !== undefined) result.abortedBy = abortedBy;
  if (finished) result.outcome = abortedBy !== undefined ? 'FAILED' : 'COMPLETED';
  return result;
}
