import type { ExecutionStatus } from '@toolpath/contracts';
import type { StepStatus, WorkflowDefinition } from '@toolpath/workflow';

/** Run-level state kept in the run's Redis hash (field `meta`). */
export interface RunMeta {
  id: string;
  tenantId: string;
  name: string;
  workflowId?: string;
  version?: number;
  status: ExecutionStatus;
  input: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error?: string;
  depth: number;
  parentExecutionId?: string;
  idempotencyKey?: string;
  /** Epoch ms after which the run fails. */
  deadline: number;
  /** The step whose failure aborted the run (compensation starts from there). */
  abortedBy?: string;
  compensations?: CompensationRecord[];
}

export interface CompensationRecord {
  stepId: string;
  tool: string;
  ok: boolean;
  error?: string;
}

/** One step's state (field `step:<id>`); a step without a field is PENDING. */
export interface StepState {
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** Time spent inside attempts (what the parallel speedup adds up). */
  busyMs?: number;
  result?: unknown;
  resultTruncated?: boolean;
  error?: string;
  reason?: string;
  /** The executor running the step (RUNNING only; see RunStore.executorId). */
  owner?: string;
}

/** Everything about one run, as read from Redis in one round trip. */
export interface RunSnapshot {
  meta: RunMeta;
  definition: WorkflowDefinition;
  steps: Record<string, StepState>;
}

export const pendingStep = (): StepState => ({ status: 'PENDING', attempts: 0, startedAt: null, endedAt: null, durationMs: null });

const LIVE_STEP = new Set(['PENDING', 'QUEUED', 'RUNNING']);

/** Whether a step can still run (not yet in a terminal status). */
export const isLiveStep = (status: string): boolean => LIVE_STEP.has(status);
