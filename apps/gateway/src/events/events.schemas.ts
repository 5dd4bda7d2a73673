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

export const SearchSessionsQuery = z
  .object({
    intent: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("sessions whose intent contains this text, ignoring case (plain text: every character stands for itself; spaces included)"),
    agentId: token.optional().describe('sessions with at least one event sent by this agent'),
    success: boolParam.optional().describe('sessions that ended (session_end) with this outcome; open sessions match neither'),
    limit: limit(200, 50),
    cursor: KeysetCursorSchema.optional(),
  })
  .strict();
export type SearchSessionsQuery = z.infer<typeof SearchSessionsQuery>;

export const TimelineQuery = z
  .object({
    bucket: z.enum(['hour', 'day']).default('hour').describe('UTC hours or UTC days'),
    from: timeParam.optional().describe('epoch ms or ISO-8601, widened down to its bucket; default: 24 hours or 30 days before `to`'),
    to: timeParam.optional().describe('epoch ms or ISO-8601 (exclusive), widened up to a whole bucket; default: now'),
  })
  .strict();
export type TimelineQuery = z.infer<typeof TimelineQuery>;
