import { isMcpToolName, McpServerPool, McpToolError, type McpSettings } from '@toolpath/mcp';
import { ToolError, type BuiltinTool, type ToolCallContext, type ToolErrorCode } from './tool-error';

/** How each MCP failure reads to the executor's retry logic (`retry.retryOn` lists these codes). */
const CODES: Record<McpToolError['code'], ToolErrorCode> = {
  unknown_server: 'unknown_tool',
  invalid_name: 'unknown_tool',
  unknown_tool: 'unknown_tool',
  unavailable: 'provider_down',
  timeout: 'timeout',
  aborted: 'aborted',
  tool_error: 'tool_error',
};

/**
 * `mcp:<server>/<tool>` steps: the configured MCP servers (TOOLPATH_MCP_SERVERS), called through
 * the official SDK client with the step's deadline and abort signal. A server that dies mid-call
 * gives a retryable `provider_down`; the next attempt starts it again.
 */
export class McpTools {
  readonly pool: McpServerPool;
  private readonly bound = new Map<string, BuiltinTool>();

  constructor(settings: McpSettings) {
    this.pool = McpServerPool.fromSettings(settings);
  }

  /** A tool for an `mcp:` name, or undefined for any other name. */
  resolve(name: string): BuiltinTool | undefined {
    if (!isMcpToolName(name)) return undefined;
    let tool = this.bound.get(name);
    if (!tool) {
      tool = { name, call: (parameters, context) => this.call(name, parameters, context) };
      if (this.bound.size < 10_000) this.bound.set(name, tool);
    }
    return tool;
  }

  async call(name: string, parameters: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    try {
      return await this.pool.call(name, parameters, {
        signal: context.signal,
        deadline: context.deadline,
        meta: { 'toolpath/idempotencyKey': context.idempotencyKey, 'toolpath/attemptKind': context.attemptKind },
      });
    } catch (err) {
      if (err instanceof McpToolError) throw new ToolError(CODES[err.code], err.message, err.retryable);
      throw new ToolError('provider_down', `MCP call "${name}" failed: ${(err as Error)?.message ?? String(err)}`, true);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
