import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

/**
 * Who is calling, for one request on Toolpath's MCP endpoint (`/mcp`, or `toolpath-mcp` over
 * stdio, which forwards to it): the tenant comes from the API key, never from the client.
 */
export interface McpCallContext {
  tenantId: string;
  /** The MCP session (`Mcp-Session-Id`); one agent conversation unless the client says otherwise. */
  mcpSessionId: string;
  /** The client's conversation id when it sends one (request `_meta`), which then names the recorded session. */
  conversationId?: string;
  /** The agent's intent when the request sends one (`_meta["toolpath/intent"]`); the recording gateway keeps it with the session. */
  intent?: string;
}

/** What a long tool call may report while it runs (MCP `notifications/progress`). */
export interface McpCallExtras {
  signal: AbortSignal;
  /** Present when the client asked for progress (a `progressToken`); `total` when known. */
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
}

/**
 * A source of tools on Toolpath's MCP server. The server asks every provider in turn: the
 * Toolpath tools (suggest, search, run, get, the catalog's workflows) are one provider, the
 * recording gateway to the registered upstream MCP servers is another. Names must not collide:
 * upstream tools are namespaced by server (`<server>__<tool>`), Toolpath's own are not.
 */
export interface McpToolProvider {
  /** The tools this provider offers the tenant now. */
  listTools(ctx: McpCallContext): Promise<Tool[]>;
  /** The call's result, or `undefined` when `name` is not one of this provider's tools. */
  callTool(ctx: McpCallContext, name: string, args: Record<string, unknown>, extras: McpCallExtras): Promise<CallToolResult | undefined>;
  /** Subscribe to changes of the tool list for a tenant (the server then sends `notifications/tools/list_changed`); returns the unsubscribe. */
  onListChanged?(tenantId: string, listener: () => void): () => void;
  /** Called when an MCP session ends, to drop what the provider kept for it. */
  sessionClosed?(ctx: McpCallContext): void;
}

/** Nest token: an array of every `McpToolProvider` the server composes. */
export const MCP_TOOL_PROVIDERS = Symbol('MCP_TOOL_PROVIDERS');
