/**
 * A run as the console holds it, kept current from the stream's updates, and what the pages read
 * off it: the tone of each step, the critical path (pure; no React).
 */
import type { ApiSchemas } from '@toolpath/api-client';
import type { NodeTone } from '../graph/LayeredGraph';

export type Run = ApiSchemas['Execution'];
export type RunStep = ApiSchemas['ExecutionStep'];
export type RunUpdate = ApiSchemas['ExecutionUpdate'];

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/** A run that may still change: pending or running. */
export function isLive(run: Run | undefined): boolean {
  return !!run?.status && (run.status === 'PENDING' || run.status === 'RUNNING');
}

/** The graph's tone for a step status (QUEUED is still waiting, as far as a reader cares). */
export function stepTone(status: string | undefined): NodeTone {
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'SKIPPED':
      return 'skipped';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'pending';
  }
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

/**
 * The run after one update. An update can repeat what the first state already showed, or arrive
 * after a later state (the stream subscribes before it reads): nothing that has ended is moved
 * back to a live state.
 */
export function applyUpdate(run: Run, u: RunUpdate): Run {
  if (!u.status) return run;
  if (u.kind === 'run') {
    if (run.status && TERMINAL.has(run.status)) return run;
    const ended = TERMINAL.has(u.status);
    const startedAt = run.startedAt ?? (u.status === 'RUNNING' ? (u.at ?? null) : null);
    return {
      ...run,
      status: u.status as Run['status'],
      startedAt,
      ...(ended && u.at ? { endedAt: u.at, durationMs: startedAt ? ms(u.at) - ms(startedAt) : (run.durationMs ?? null) } : {}),
      ...(u.error !== undefined ? { error: u.error } : {}),
    };
  }
  if (!u.stepId) return run;
  const steps = run.steps ?? [];
  const at = steps.findIndex((s) => s.id === u.stepId);
  const old: RunStep = at >= 0 ? steps[at] : { id: u.stepId, status: 'PENDING', attempts: 0, startedAt: null, endedAt: null, durationMs: null };
  if (old.status && TERMINAL.has(old.status)) return run;
  const ended = TERMINAL.has(u.status);
  const step: RunStep = { ...old, status: u.status, attempts: Math.max(old.attempts ?? 0, u.attempt ?? 0) };
  if (u.status === 'RUNNING' && !step.startedAt) step.startedAt = u.at ?? null;
  if (ended) {
    step.endedAt = u.at ?? null;
    step.durationMs = u.durationMs ?? (step.startedAt && u.at ? ms(u.at) - ms(step.startedAt) : null);
  }
  if (u.error !== undefined) step.error = u.error;
  const next = [...steps];
  if (at >= 0) next[at] = step;
  else next.push(step);
  return { ...run, steps: next };
}

/**
 * The chain of steps whose ends set the run's end: from the step that ended last, back through
 * the dependency (dependsOn) that ended last, to a step that waited for nothing. Steps that never
 * started (skipped, pending) take no time and are left out. Listed first step first.
 */
export function criticalPath(steps: RunStep[], dependsOn: Record<string, string[] | undefined>): string[] {
  const ran = new Map(steps.filter((s) => s.id && s.startedAt && s.endedAt).map((s) => [s.id as string, s]));
  const latest = (ids: Iterable<string>) => {
    let best: string | undefined;
    for (const id of ids) {
      const s = ran.get(id);
      if (s && (best === undefined || ms(s.endedAt) > ms(ran.get(best)!.endedAt))) best = id;
    }
    return best;
  };
  const path: string[] = [];
  const seen = new Set<string>();
  for (let cur = latest(ran.keys()); cur !== undefined && !seen.has(cur); cur = latest(dependsOn[cur] ?? [])) {
    seen.add(cur);
    path.push(cur);
  }
  return path.reverse();
}
