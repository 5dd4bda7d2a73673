import { z } from 'zod';

/** A server name is part of tool names (`mcp:<server>/<tool>`) and of metric labels. */
export const MCP_SERVER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const name = z.string().regex(MCP_SERVER_NAME_PATTERN, 'letters, digits, _ and - only (1-64)');
const timeouts = {
  /** Bound on starting/reaching the server and the MCP initialize handshake. */
  connectTimeoutMs: z.number().int().positive().max(600_000).optional(),
  /** Default bound on one tool call (a caller's earlier deadline wins). */
  callTimeoutMs: z.number().int().positive().max(3_600_000).optional(),
};

export const McpStdioServerSchema = z.strictObject({
  name,
  transport: z.literal('stdio'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Added to a minimal inherited environment (PATH, HOME, ...), not to the whole parent environment. */
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  ...timeouts,
});

export const McpHttpServerSchema = z.strictObject({
  name,
  transport: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  ...timeouts,
});

export const McpServerConfigSchema = z.discriminatedUnion('transport', [McpStdioServerSchema, McpHttpServerSchema]);
export type McpServerConfig = z.infer<typeof McpServerConfigSchema>;
export type McpStdioServerConfig = z.infer<typeof McpStdioServerSchema>;
export type McpHttpServerConfig = z.infer<typeof McpHttpServerSchema>;

const serverList = z.array(McpServerConfigSchema).superRefine((servers, ctx) => {
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate server name "${s.name}"` });
    seen.add(s.name);
  });
});

/** A bad `TOOLPATH_MCP_SERVERS`, with the path of the offending entry. */
export class McpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpConfigError';
  }
}

/**
 * Parses `TOOLPATH_MCP_SERVERS`: a JSON array of `{ name, transport: 'stdio', command, args?, env?,
 * cwd? }` or `{ name, transport: 'http', url, headers? }` (each may add connectTimeoutMs and
 * callTimeoutMs). Empty or unset means no servers. Throws McpConfigError naming the entry and field.
 */
export function parseMcpServers(raw: string | undefined): McpServerConfig[] {
  if (raw === undefined || raw.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new McpConfigError(`TOOLPATH_MCP_SERVERS is not JSON: ${(err as Error).message}`);
  }
  const parsed = serverList.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `TOOLPATH_MCP_SERVERS${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
    throw new McpConfigError(issues.join('; '));
  }
  return parsed.data;
}

/**
 * The MCP settings an app's config schema spreads in, so that they are validated at boot with
 * the rest: the server list and the default bounds.
 */
export const mcpConfigShape = {
  TOOLPATH_MCP_SERVERS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return parseMcpServers(raw);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  TOOLPATH_MCP_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  TOOLPATH_MCP_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** How long a server's tool list is reused before it is asked again. */
  TOOLPATH_MCP_TOOLS_TTL_MS: z.coerce.number().int().positive().default(60_000),
};

export interface McpSettings {
  TOOLPATH_MCP_SERVERS: McpServerConfig[];
  TOOLPATH_MCP_CONNECT_TIMEOUT_MS: number;
  TOOLPATH_MCP_CALL_TIMEOUT_MS: number;
  TOOLPATH_MCP_TOOLS_TTL_MS: number;
}
