import { z } from 'zod';
import { intParam } from '../common/query-params';

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
