import { z } from 'zod';
import { KeysetCursorSchema } from '@toolpath/contracts';
import { intParam, timeParam } from '../common/query-params';
import { WorkflowIdParam } from '../workflows/workflows.schemas';

const idempotencyKey = z.string().min(1).max(256).describe('the same key (per tenant) returns the same run');
const input = z.record(z.string(), z.unknown()).describe("the run's input, checked against the workflow's variables");

/** `POST /workflows/:id/executions`. */
export const StartWorkflowRunBody = z.strictObject({ input: input.optional(), idempotencyKey: idempotencyKey.optional() });
export type StartWorkflowRunBody = z.infer<typeof StartWorkflowRunBody>;

/** `POST /executions`: the definition is checked by `validateWorkflow`, not here. */
export const StartInlineRunBody = z.strictObject({ definition: z.unknown(), input: input.optional(), idempotencyKey: idempotencyKey.optional() });
export type StartInlineRunBody = z.infer<typeof StartInlineRunBody>;

export const ExecutionIdParam = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'not an execution id');

export const ListRunsQuery = z
  .strictObject({
    status: z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional(),
    limit: intParam(1, 1000).default(50),
    cursor: z.string().max(1000).optional(),
  });
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;

/** `GET /executions`: every run of the tenant, filters optional. */
export const ListAllRunsQuery = z
  .strictObject({
    workflowId: WorkflowIdParam.optional().describe("runs of this workflow only (a deleted workflow's runs too)"),
    status: z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional(),
    from: timeParam.optional().describe('runs that ended at or after this time (a run still going counts as ending now): epoch ms or ISO-8601'),
    to: timeParam.optional().describe('runs that ended before this time (exclusive; later than `from`): epoch ms or ISO-8601'),
    limit: intParam(1, 200).default(50),
    cursor: KeysetCursorSchema.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { path: ['to'], message: 'must be later than from' });
export type ListAllRunsQuery = z.infer<typeof ListAllRunsQuery>;
