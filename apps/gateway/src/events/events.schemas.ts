import { z } from 'zod';

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
/** ISO-8601 or epoch milliseconds, as in the event contract. */
const timeParam = z
  .string()
  .refine((v) => /^\d{1,16}$/.test(v) || !Number.isNaN(Date.parse(v)), 'must be ISO-8601 or epoch milliseconds')
  .transform((v) => (/^\d{1,16}$/.test(v) ? new Date(Number(v)) : new Date(v)));
const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);
const token = z.string().min(1).max(256);

export const ListEventsQuery = z
  .object({
    sessionId: token.optional(),
    tool: z.string().min(1).max(200).optional(),
    kind: z.enum(['tool_call', 'session_end']).optional(),
    success: boolParam.optional(),
    userId: token.optional(),
    agentId: token.optional(),
    from: timeParam.optional(),
    to: timeParam.optional(),
    limit: limit(1000, 100),
    cursor: z.string().max(1000).optional(),
  })
  .strict();
export type ListEventsQuery = z.infer<typeof ListEventsQuery>;

export const PageQuery = z.object({ limit: limit(1000, 100), cursor: z.string().max(1000).optional() }).strict();
export const RecentSessionsQuery = z.object({ limit: limit(200, 20) }).strict();
export const SessionIdParam = token;
