/**
 * Why an MCP call failed. `unavailable` (the server cannot be started or reached, or died during
 * the call) and `timeout` are worth another attempt; the others are not.
 */
export type McpErrorCode = 'unknown_server' | 'unknown_tool' | 'invalid_name' | 'unavailable' | 'timeout' | 'aborted' | 'tool_error';

export class McpToolError extends Error {
  constructor(
    readonly code: McpErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'McpToolError';
  }
}
