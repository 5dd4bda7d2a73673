import type { Logger } from '@nestjs/common';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { McpServerMetrics } from './mcp-server.metrics';
import type { McpCallContext, McpCallExtras, McpToolProvider } from './mcp-tool-provider';
import { errorResult } from './tool-results';
import { WORKFLOW_RESOURCE_TEMPLATE, type WorkflowResources } from './workflow-resources';

/** JSON-RPC error of MCP for an unknown resource URI. */
const RESOURCE_NOT_FOUND = -32002;

export interface ComposedServerDeps {
  providers: McpToolProvider[];
  resources: WorkflowResources;
  metrics: McpServerMetrics;
  log: Logger;
  version: string;
}

export interface ComposedServer {
  server: McpServer;
  /** Ends the provider subscriptions of this session and tells the providers it is over. */
  dispose(): void;
}

/** The client's conversation id when its request `_meta` carries one (`toolpath/conversationId` or `conversationId`). */
export function conversationIdOf(meta: Record<string, unknown> | undefined): string | undefined {
  const value = meta?.['toolpath/conversationId'] ?? meta?.conversationId;
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

/** Longest intent taken from a request's `_meta`, as the event schema's intent allows. */
const MAX_META_INTENT = 10_000;

/** The agent's intent when its request `_meta` carries one (`toolpath/intent`). */
export function intentOf(meta: Record<string, unknown> | undefined): string | undefined {
  const value = meta?.['toolpath/intent'];
  return typeof value === 'string' && value.trim().length > 0 ? value.slice(0, MAX_META_INTENT) : undefined;
}

/**
 * One MCP session's server: the tools of every provider (asked in order; a name answered by an
 * earlier provider hides a later one's), `notifications/tools/list_changed` when a provider says
 * its list moved, and the tenant's workflows as resources. A provider that throws while listing is
 * left out of that list (logged); a call that throws is a tool error: nothing here ends the session.
 */
export function createComposedServer(ctx: McpCallContext, deps: ComposedServerDeps): ComposedServer {
  const server = new McpServer(
    { name: 'toolpath', title: 'Toolpath', version: deps.version },
    {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: false } },
      instructions:
        'Toolpath learns workflows from the tool calls agents make and runs them. Call suggest_workflows with what you are about to do (and the tools you already called) before planning tool calls yourself; run a suggested workflow with run_workflow or its own tool.',
    },
  );

  server.server.setRequestHandler(ListToolsRequestSchema, async () => {
    const tools: Tool[] = [];
    const names = new Set<string>();
    for (const provider of deps.providers) {
      let listed: Tool[];
      try {
        listed = await provider.listTools(ctx);
      } catch (err) {
        deps.log.warn(`an MCP tool provider failed to list its tools for ${ctx.tenantId}: ${(err as Error).message}`);
        continue;
      }
      for (const tool of listed) {
        if (names.has(tool.name)) continue;
        names.add(tool.name);
        tools.push(tool);
      }
    }
    return { tools };
  });

  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const started = performance.now();
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    const conversationId = conversationIdOf(request.params._meta);
    const intent = intentOf(request.params._meta);
    const callCtx: McpCallContext = { ...ctx, ...(conversationId ? { conversationId } : {}), ...(intent ? { intent } : {}) };
    const progressToken = request.params._meta?.progressToken;
    const extras: McpCallExtras = {
      signal: extra.signal,
      ...(progressToken !== undefined
        ? {
            progress: (progress: number, total?: number, message?: string) =>
              extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken, progress, ...(total !== undefined ? { total } : {}), ...(message !== undefined ? { message } : {}) },
              }),
          }
        : {}),
    };
    let result: CallToolResult | undefined;
    try {
      for (const provider of deps.providers) {
        result = await provider.callTool(callCtx, name, args, extras);
        if (result) break;
      }
      if (!result) {
        deps.metrics.badInput.inc({ reason: 'unknown_tool' });
        result = errorResult('unknown_tool', `unknown tool "${name}": tools/list names the tools of this server`, [{ field: 'name', message: 'unknown tool' }]);
      }
    } catch (err) {
      deps.log.warn(`MCP tool ${name} failed for ${ctx.tenantId}: ${(err as Error)?.stack ?? String(err)}`);
      result = errorResult('internal_error', `tool "${name}" failed: internal error`);
    }
    deps.metrics.calls.inc({ outcome: result.isError ? 'error' : 'ok' });
    deps.metrics.callSeconds.observe((performance.now() - started) / 1000);
    return result;
  });

  server.registerResource(
    'workflow',
    new ResourceTemplate(WORKFLOW_RESOURCE_TEMPLATE, { list: async () => ({ resources: await deps.resources.list(ctx.tenantId) }) }),
    { title: 'Toolpath workflow', description: 'A catalog workflow: its definition (steps, variables), id, version and times', mimeType: 'application/json' },
    async (uri, variables) => {
      const id = decodeURIComponent(String(variables.id ?? ''));
      const found = id ? await deps.resources.read(ctx.tenantId, uri.href, id) : undefined;
      if (!found) throw new McpError(RESOURCE_NOT_FOUND, `resource not found: ${uri.href}`, { uri: uri.href });
      return found;
    },
  );

  const unsubscribes: Array<() => void> = [];
  for (const provider of deps.providers) {
    const off = provider.onListChanged?.(ctx.tenantId, () => {
      if (server.isConnected()) server.sendToolListChanged();
    });
    if (off) unsubscribes.push(off);
  }

  let disposed = false;
  return {
    server,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const off of unsubscribes.splice(0)) off();
      for (const provider of deps.providers) {
        try {
          provider.sessionClosed?.(ctx);
        } catch (err) {
          deps.log.warn(`an MCP tool provider failed on session close: ${(err as Error).message}`);
        }
      }
    },
  };
}
