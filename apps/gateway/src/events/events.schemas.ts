import { KeysetCursorSchema } from '@toolpath/contracts';
import { z } from 'zod';
import { boolParam, intParam, timeParam } from '../common/query-params';

const limit = (max: number, dflt: number) => intParam(1, max).default(dflt);
const token = z.string().min(1).max(256);
const time = timeParam.transform((ms) => new Date(ms));

export const ListEventsQuery = z
  .object({
    sessionId: token.optional(),
    tool: z.string().min(1).max(200).optional(),
    kind: z.enum(['tool_call', 'session_end']).optional(),
    success: boolParam.optional(),
    userId: token.optional(),
    agentId: token.optional(),
    from: time.optional().describe('events that started at or after it: epoch ms or ISO-8601'),
    to: time.optional().describe('events that started before it: epoch ms or ISO-8601'),
    limit: limit(1000, 100),
    cursor: KeysetCursorSchema.optional(),
  })
  .strict();
export type ListEventsQuery = z.infer<typeof ListEventsQuery>;

export const PageQuery = z.object({ limit: limit(1000, 100), cursor: KeysetCursorSchema.optional() }).strict();
export const RecentSessionsQuery = z.object({ limit: limit(200, 20) }).strict();
export const SessionIdParam = token;
