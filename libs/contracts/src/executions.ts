import { z } from 'zod';
import { TENANT_ID_PATTERN } from './events';
import { KeysetCursorSchema } from './keyset-cursor';
import type { RequestReply, ServiceReply, SubjectsOf } from './service-reply';

/**
 * Names and messages between the gateway, the executor and tool providers.
 *
 * WARNING: renaming a subject, queue or bucket strands what is already in it (queued steps,
 * registered tools). Add a new name and migrate; never rename in place.
 */

/** Queue group of the executor's request/reply subjects: each request is answered by one executor. */
export const EXECUTOR_QUEUE_GROUP = 'executor';
/** Queue group tool providers serve in, so several instances of a provider share the load. */
export const TOOL_PROVIDER_QUEUE_GROUP = 'toolpath-tools';
/** BullMQ queue of step jobs (its Redis prefix is `{<TOOLPATH_QUEUE_PREFIX>}`, a Cluster hash tag). */
export const STEP_QUEUE = 'steps';
/**
 * Former BullMQ queue of run-level jobs. Unused since run deadlines and finalization moved to Redis
 * structures of the executor (docs/EXECUTOR.md); the name stays reserved (see the warning above).
 */
export const RUN_QUEUE = 'runs';

/** What each executor subject takes and answers (its reply is a `ServiceReply` of `reply`). */
export interface ExecutorRequests {
  start: RequestReply<StartExecutionRequest, StartExecutionReply>;
  get: RequestReply<ExecutionRef, ExecutionView>;
  list: RequestReply<ListExecutionsRequest, ListExecutionsReply>;
  listAll: RequestReply<ListAllExecutionsRequest, ListExecutionsReply>;
  cancel: RequestReply<ExecutionRef, ExecutionView>;
}

export const executorSubjects = (prefix: string): SubjectsOf<ExecutorRequests> => ({
  start: `${prefix}.executor.start`,
  get: `${prefix}.executor.get`,
  list: `${prefix}.executor.list`,
  listAll: `${prefix}.executor.list-all`,
  cancel: `${prefix}.executor.cancel`,
});

/** Progress of one run, published on every state change (core NATS; the gateway streams it as SSE). */
export function executionUpdatesSubject(prefix: string, tenantId: string, executionId: string): string {
  return `${prefix}.executions.${tenantId}.${executionId}`;
}

/** NATS KV bucket where tool providers announce their tools. */
export function toolRegistryBucket(prefix: string): string {
  return `${prefix}_tools`;
}

export const ExecutionStatus = {
  Pending: 'PENDING',
  Running: 'RUNNING',
  Completed: 'COMPLETED',
  Failed: 'FAILED',
  Cancelled: 'CANCELLED',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];
export const TERMINAL_EXECUTION_STATUSES: ReadonlySet<ExecutionStatus> = new Set<ExecutionStatus>(['COMPLETED', 'FAILED', 'CANCELLED']);

const tenantId = z.string().regex(TENANT_ID_PATTERN);
const executionId = z.string().min(1).max(128);

/** Gateway → executor: start a run of a (validated) definition. */
export const StartExecutionRequestSchema = z.object({
  tenantId,
  /** A workflow definition v1; the executor validates it again (it trusts no caller). */
  definition: z.unknown(),
  workflowId: z.string().min(1).max(128).optional(),
  version: z.number().int().positive().optional(),
  input: z.record(z.string(), z.unknown()).default({}),
  /** Same key, same tenant → the same run, never a second one. */
  idempotencyKey: z.string().min(1).max(256).optional(),
  parentExecutionId: executionId.optional(),
  depth: z.number().int().nonnegative().default(0),
  /** Run deadline; the executor's default (EXECUTOR_RUN_TIMEOUT_MS) when absent. */
  timeoutMs: z.number().int().positive().max(7 * 24 * 3600 * 1000).optional(),
});
export type StartExecutionRequest = z.input<typeof StartExecutionRequestSchema>;

export const ExecutionRefSchema = z.object({ tenantId, executionId });
export type ExecutionRef = z.infer<typeof ExecutionRefSchema>;

export const ListExecutionsRequestSchema = z.object({
  tenantId,
  workflowId: z.string().min(1).max(128).optional(),
  status: z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(1000).optional(),
});
export type ListExecutionsRequest = z.input<typeof ListExecutionsRequestSchema>;

/**
 * Gateway → executor: every run of a tenant, live ones first, then finished ones most recently
 * recorded first, keyset-paged (`nextCursor` in the keyset cursor format). A page may hold fewer
 * than `limit` runs and still have a `nextCursor` (the executor bounds the work of one request).
 */
export const ListAllExecutionsRequestSchema = z.object({
  tenantId,
  workflowId: z.string().min(1).max(128).optional(),
  status: z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional(),
  /** Runs created at or after this time (epoch ms). */
  fromMs: z.number().int().nonnegative().optional(),
  /** Runs created before this time (epoch ms). */
  toMs: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: KeysetCursorSchema.optional(),
});
export type ListAllExecutionsRequest = z.input<typeof ListAllExecutionsRequestSchema>;

/** One step of a run as clients see it (`GET /executions/:id`). */
export interface StepView {
  id: string;
  tool: string;
  status: string;
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  result?: unknown;
  error?: string;
}

/** A run as clients see it. */
export interface ExecutionView {
  id: string;
  workflowId?: string;
  version?: number;
  status: ExecutionStatus;
  input: Record<string, unknown>;
  steps: StepView[];
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** Sum of step durations / wall time: how much the DAG's parallelism bought. */
  parallelSpeedup: number | null;
  error?: string;
  idempotencyKey?: string;
  parentExecutionId?: string;
}

/** A state change, as published on `executionUpdatesSubject`. */
export interface ExecutionUpdate {
  executionId: string;
  tenantId: string;
  kind: 'step' | 'run';
  stepId?: string;
  status: string;
  attempt?: number;
  at: string;
  durationMs?: number;
  error?: string;
}

/** Executor replies: a value or an error the gateway maps to HTTP. */
export type ExecutorReply<T> = ServiceReply<T>;

// --- tools over NATS ---------------------------------------------------------------------------

export const ToolRequestSchema = z.object({
  parameters: z.record(z.string(), z.unknown()),
  context: z.object({
    tenantId,
    runId: z.string(),
    stepId: z.string(),
    attempt: z.number().int().positive(),
    /** Epoch ms after which the executor stops waiting; a provider should give up too. */
    deadline: z.number(),
    /**
     * The same for every attempt of one step of one run (a retry, a takeover), different in
     * another run: what a provider de-duplicates side effects on (`serveTool`'s `dedupe`).
     */
    idempotencyKey: z.string().min(1).max(1024).optional(),
    /** Why this attempt runs: the step's first, a retry after a failed attempt, or a takeover of an attempt whose executor died. */
    attemptKind: z.enum(['first', 'retry', 'takeover']).optional(),
  }),
});
export type ToolRequest = z.infer<typeof ToolRequestSchema>;
/** Why an attempt of a step runs (ToolRequest `context.attemptKind`). */
export type AttemptKind = 'first' | 'retry' | 'takeover';

/** The idempotency key of a step of a run: stable across its attempts, including a takeover. */
export function stepIdempotencyKey(runId: string, stepId: string): string {
  return `${runId}/${stepId}`;
}

export const ToolReplySchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.object({ message: z.string(), retryable: z.boolean() }) }),
]);
export type ToolReply = z.infer<typeof ToolReplySchema>;

/** What a provider announces in the registry. */
export const ToolDefinitionSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/),
  description: z.string().max(10_000),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
});
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema>;

// --- executor internals that cross a process boundary ------------------------------------------

/** Collection the executor owns: the durable record of every run (others read it through `@toolpath/execution-store`). */
export const EXECUTIONS_COLLECTION = 'executions';

/** Executor → every executor: abort the running attempts of a run (cancel, run timeout). */
export function executorAbortSubject(prefix: string): string {
  return `${prefix}.executor.abort`;
}

export interface ExecutorAbortMessage {
  executionId: string;
  reason: string;
}

/** Reply to `executorSubjects(prefix).start`. */
export interface StartExecutionReply {
  executionId: string;
  status: ExecutionStatus;
  /** False when an idempotency key matched an existing run. */
  created: boolean;
}

/** Reply to `executorSubjects(prefix).list`. */
export interface ListExecutionsReply {
  items: ExecutionView[];
  nextCursor: string | null;
}
