import type { ExecutionView, StepView } from '@toolpath/contracts';
import type { ExecutionDocument } from './execution.repository';
import type { RunSnapshot } from './run-state';

/**
 * How a run looks to clients. `parallelSpeedup` is the time spent in steps divided by the run's
 * wall time: 3 independent 100 ms steps finishing in 110 ms give about 2.7.
 */
export function toExecutionView(run: RunSnapshot, now = Date.now()): ExecutionView {
  const { meta } = run;
  const steps: StepView[] = run.definition.steps.map((s) => {
    const st = run.steps[s.id];
    const view: StepView = {
      id: s.id,
      tool: s.tool,
      status: st.status,
      attempts: st.attempts,
      startedAt: st.startedAt,
      endedAt: st.endedAt,
      durationMs: st.durationMs,
    };
    if (st.result !== undefined) view.result = st.result;
    if (st.error !== undefined) view.error = st.error;
    return view;
  });
  const startedMs = meta.startedAt ? Date.parse(meta.startedAt) : null;
  const endedMs = meta.endedAt ? Date.parse(meta.endedAt) : null;
  const wall = startedMs === null ? null : (endedMs ?? now) - startedMs;
  const busy = run.definition.steps.reduce((sum, s) => sum + (run.steps[s.id].busyMs ?? run.steps[s.id].durationMs ?? 0), 0);
  const view: ExecutionView = {
    id: meta.id,
    status: meta.status,
    input: meta.input,
    steps,
    startedAt: meta.startedAt,
    endedAt: meta.endedAt,
    durationMs: endedMs !== null && startedMs !== null ? endedMs - startedMs : null,
    parallelSpeedup: endedMs !== null && wall !== null && wall > 0 ? Math.round((busy / wall) * 100) / 100 : null,
  };
  if (meta.workflowId !== undefined) view.workflowId = meta.workflowId;
  if (meta.version !== undefined) view.version = meta.version;
  if (meta.error !== undefined) view.error = meta.error;
  if (meta.idempotencyKey !== undefined) view.idempotencyKey = meta.idempotencyKey;
  if (meta.parentExecutionId !== undefined) view.parentExecutionId = meta.parentExecutionId;
  return view;
}

/** A run's row in Mongo (`executions`): its view, plus what lists and the finalizer need. */
export function toExecutionDocument(run: RunSnapshot): ExecutionDocument {
  const { id, ...view } = toExecutionView(run);
  return { _id: id, ...view, tenantId: run.meta.tenantId, name: run.meta.name, definition: run.definition, depth: run.meta.depth, updatedAt: new Date() };
}
