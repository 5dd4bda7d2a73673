export { parseMcpServers, mcpConfigShape, McpConfigError, McpServerConfigSchema, MCP_SERVER_NAME_PATTERN } from './mcp-config';
export type { McpServerConfig, McpStdioServerConfig, McpHttpServerConfig, McpSettings } from './mcp-config';
export { McpConnection } from './mcp-connection';
export type { McpToolInfo, McpServerState, McpServerStatus, McpConnectionDefaults, McpCallOptions } from './mcp-connection';
export { McpServerPool } from './mcp-server-pool';
export type { McpToolListing } from './mcp-server-pool';
export { McpToolError } from './mcp-errors';
export type { McpErrorCode } from './mcp-errors';
export { MCP_TOOL_PREFIX, isMcpToolName, parseMcpToolName, mcpToolName } from './mcp-tool-name';
