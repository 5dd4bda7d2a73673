/**
 * States of one step in a run.
 *
 * - PENDING: waiting for its dependencies (or for the step it is the fallback of).
 * - QUEUED: found ready and handed to the queue; not started yet. "Ready" itself is not
 *   stored: it is what `computeReadySteps` answers for PENDING steps.
 * - RUNNING: an attempt is in progress (retries stay RUNNING between attempts).
 * - COMPLETED, FAILED, SKIPPED, CANCELLED: terminal.
 */
export const StepStatus = {
  Pending: 'PENDING',
  Queued: 'QUEUED',
  Running: 'RUNNING',
  Completed: 'COMPLETED',
  Failed: 'FAILED',
  Skipped: 'SKIPPED',
  Cancelled: 'CANCELLED',
} as const;

export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

export const TERMINAL_STEP_STATUSES: ReadonlySet<StepStatus> = new Set<StepStatus>([
  StepStatus.Completed,
  StepStatus.Failed,
  StepStatus.Skipped,
  StepStatus.Cancelled,
]);

export function isTerminalStepStatus(status: StepStatus): boolean {
  return TERMINAL_STEP_STATUSES.has(status);
}
