import { z } from 'zod';
import { intParam } from '../common/query-params';

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ToolsQuery = z
  .object({
    source: z.enum(['builtin', 'nats', 'mcp']).optional(),
    refresh: boolParam.default(false).describe('ask the MCP servers again instead of using their cached lists'),
  })
  .strict();
export type ToolsQuery = z.infer<typeof ToolsQuery>;

export const AgentsQuery = z.object({ days: intParam(1, 365).default(30) }).strict();
export type AgentsQuery = z.infer<typeof AgentsQuery>;

export const McpsQuery = z.object({ probe: boolParam.default(true).describe('connect and list tools first (cached lists are reused)') }).strict();
export type McpsQuery = z.infer<typeof McpsQuery>;
