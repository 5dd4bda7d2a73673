/** Finished runs of a workflow: COMPLETED and FAILED (a CANCELLED run says nothing of the workflow). */
export interface RunTally {
  completed: number;
  failed: number;
}

export function finishedRuns(t: RunTally): number {
  return t.completed + t.failed;
}

/** The success rate of a workflow: the share of its finished runs that completed; null before any finished. */
export function runSuccessRate(t: RunTally): number | null {
  const finished = finishedRuns(t);
  return finished > 0 ? t.completed / finished : null;
}
