import type { Provider, Type } from '@nestjs/common';
import { McpHttpController } from './mcp-http.controller';
import { McpServerMetrics } from './mcp-server.metrics';
import { McpSessions } from './mcp-sessions';
import { ToolpathToolProvider } from './toolpath-tool-provider';
import { WorkflowResources } from './workflow-resources';
import { WorkflowRunWaiter } from './workflow-run-waiter';
import { WorkflowToolCatalog } from './workflow-tool-catalog';

/** Toolpath's MCP endpoint (`/mcp`). */
export const MCP_SERVER_CONTROLLERS: Type<unknown>[] = [McpHttpController];

/**
 * The server, its sessions and Toolpath's own tool provider. Which providers the server composes
 * (`MCP_TOOL_PROVIDERS`) is said in gateway.module.ts. Needs the gateway's AnalyzerClient,
 * LibraryService (and WorkflowReader), ExecutionsService, ExecutorClient and WorkflowRepository.
 */
export const MCP_SERVER_PROVIDERS: Provider[] = [McpServerMetrics, WorkflowToolCatalog, WorkflowRunWaiter, WorkflowResources, ToolpathToolProvider, McpSessions];
