import type { McpServerConfig, McpSettings } from './mcp-config';
import { McpConnection, type McpCallOptions, type McpConnectionDefaults, type McpServerStatus, type McpToolInfo } from './mcp-connection';
import { McpToolError } from './mcp-errors';
import { parseMcpToolName } from './mcp-tool-name';

/** Tools of every server that answered, and why the others did not. */
export interface McpToolListing {
  tools: McpToolInfo[];
  errors: Array<{ server: string; message: string }>;
}

/**
 * The configured MCP servers of one process: one lazy connection each, nothing started until a
 * tool is listed or called.
 */
export class McpServerPool {
  private readonly connections = new Map<string, McpConnection>();

  constructor(servers: McpServerConfig[], defaults: McpConnectionDefaults) {
    for (const s of servers) this.connections.set(s.name, new McpConnection(s, defaults));
  }

  static fromSettings(s: McpSettings): McpServerPool {
    return new McpServerPool(s.TOOLPATH_MCP_SERVERS, {
      connectTimeoutMs: s.TOOLPATH_MCP_CONNECT_TIMEOUT_MS,
      callTimeoutMs: s.TOOLPATH_MCP_CALL_TIMEOUT_MS,
      toolsTtlMs: s.TOOLPATH_MCP_TOOLS_TTL_MS,
    });
  }

  get size(): number {
    return this.connections.size;
  }

  serverNames(): string[] {
    return [...this.connections.keys()];
  }

  connection(server: string): McpConnection | undefined {
    return this.connections.get(server);
  }

  status(): McpServerStatus[] {
    return [...this.connections.values()].map((c) => c.status());
  }

  /** Every server's tools, asked in parallel; a server that fails is reported, not thrown. */
  async listTools(opts: { refresh?: boolean } = {}): Promise<McpToolListing> {
    const settled = await Promise.allSettled([...this.connections.values()].map((c) => c.listTools(opts)));
    const listing: McpToolListing = { tools: [], errors: [] };
    settled.forEach((r, i) => {
      const server = [...this.connections.keys()][i];
      if (r.status === 'fulfilled') listing.tools.push(...r.value);
      else listing.errors.push({ server, message: (r.reason as Error)?.message ?? String(r.reason) });
    });
    return listing;
  }

  /** Calls `mcp:<server>/<tool>`. */
  async call(fullName: string, args: Record<string, unknown>, opts: McpCallOptions = {}): Promise<unknown> {
    const parts = parseMcpToolName(fullName);
    if (!parts) throw new McpToolError('invalid_name', `"${fullName}" is not an MCP tool name: use mcp:<server>/<tool>`, false);
    const connection = this.connections.get(parts.server);
    if (!connection) {
      const known = this.serverNames();
      throw new McpToolError('unknown_server', `unknown MCP server "${parts.server}" in "${fullName}"; configured: ${known.length ? known.join(', ') : 'none (TOOLPATH_MCP_SERVERS is empty)'}`, false);
    }
    return connection.callTool(parts.tool, args, opts);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.connections.values()].map((c) => c.close()));
  }
}
