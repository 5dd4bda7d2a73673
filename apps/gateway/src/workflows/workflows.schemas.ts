import { KeysetCursorSchema } from '@toolpath/contracts';
import { z } from 'zod';
import { intParam } from '../common/query-params';

const text = (max: number) => z.string().min(1).max(max);

export const ListWorkflowsQuery = z
  .object({
    q: text(200).optional().describe('text in the name or description (case-insensitive)'),
    category: text(100).optional(),
    tag: text(64).optional(),
    tool: text(200).optional().describe('a tool one of the steps calls'),
    source: z.enum(['user', 'learned', 'generated', 'template']).optional(),
    limit: intParam(1, 200).default(50),
    cursor: KeysetCursorSchema.optional(),
  })
  .strict();
export type ListWorkflowsQuery = z.infer<typeof ListWorkflowsQuery>;

export const VersionsQuery = z
  .object({
    limit: intParam(1, 200).default(50),
    cursor: z.string().regex(/^\d{1,9}$/, 'cursor is not one this API issued').optional(),
  })
  .strict();
export type VersionsQuery = z.infer<typeof VersionsQuery>;

export const WorkflowIdParam = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'not a workflow id');
export const VersionParam = intParam(1, 1_000_000_000);

/** `PUT /workflows/:id`: the definition, plus an optional optimistic-concurrency check. */
export const EXPECTED_VERSION_FIELD = 'expectedVersion';
export const ExpectedVersion = z.number().int().positive();
