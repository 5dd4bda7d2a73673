import { z } from 'zod';

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ToolsQuery = z
  .object({
    source: z.enum(['builtin', 'nats', 'mcp']).optional(),
    /** Ask the MCP servers again instead of using their cached lists. */
    refresh: boolParam.default(false),
  })
  .strict();
export type ToolsQuery = z.infer<typeof ToolsQuery>;

export const AgentsQuery = z.object({ days: z.coerce.number().int().min(1).max(365).default(30) }).strict();
export type AgentsQuery = z.infer<typeof AgentsQuery>;

export const McpsQuery = z.object({ probe: boolParam.default(true) }).strict();
export type McpsQuery = z.infer<typeof McpsQuery>;
