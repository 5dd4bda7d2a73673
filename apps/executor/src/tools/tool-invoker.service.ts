import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ErrorCode, type KV, type NatsError } from 'nats';
import { NATS_TOOL_NAME_PATTERN, ToolReplySchema, toolRegistryBucket, toolSubject, type ToolRequest } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { ExecutorConfig } from '../executor.config';
import { DelayTool, TransformTool } from './core.tools';
import { HttpRequestTool } from './http-request.tool';
import { McpTools } from './mcp.tool';
import { ToolError, abortError, type BuiltinTool, type ToolCallContext } from './tool-error';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Calls a tool by name: a built-in inside this process, anything else over NATS at
 * `<prefix>.tools.<name>`. Every failure becomes a ToolError saying whether a retry may help.
 */
@Injectable()
export class ToolInvoker implements OnApplicationShutdown {
  private readonly builtins = new Map<string, BuiltinTool>();
  /** `mcp:<server>/<tool>` names, served by the configured MCP servers. */
  private readonly mcp: McpTools;
  private registry?: Promise<KV | null>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly nats: NatsClient,
  ) {
    for (const tool of [
      new DelayTool(),
      new TransformTool(),
      new HttpRequestTool({ maxBytes: config.EXECUTOR_HTTP_MAX_BYTES, allowHosts: config.EXECUTOR_HTTP_ALLOW_HOSTS }),
    ]) {
      this.register(tool);
    }
    this.mcp = new McpTools(config);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mcp.close();
  }

  register(tool: BuiltinTool): void {
    this.builtins.set(tool.name, tool);
  }

  isBuiltin(name: string): boolean {
    return this.builtins.has(name);
  }

  async call(tool: string, parameters: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    if (context.signal.aborted) throw abortError(context.signal);
    const builtin = this.builtins.get(tool) ?? this.mcp.resolve(tool);
    if (builtin) {
      const aborted = new Promise<never>((_, reject) => context.signal.addEventListener('abort', () => reject(abortError(context.signal)), { once: true }));
      aborted.catch(() => undefined);
      return Promise.race([builtin.call(parameters, context), aborted]);
    }
    return this.callRemote(tool, parameters, context);
  }

  private async callRemote(tool: string, parameters: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    if (!NATS_TOOL_NAME_PATTERN.test(tool)) {
      throw new ToolError('unknown_tool', `unknown tool "${tool}": not built in, and not a name a NATS provider can serve`, false);
    }
    const timeout = Math.max(1, context.deadline - Date.now());
    const request: ToolRequest = {
      parameters,
      context: {
        tenantId: context.tenantId,
        runId: context.executionId,
        stepId: context.stepId,
        attempt: context.attempt,
        deadline: context.deadline,
        idempotencyKey: context.idempotencyKey,
        attemptKind: context.attemptKind,
      },
    };
    const aborted = new Promise<never>((_, reject) => context.signal.addEventListener('abort', () => reject(abortError(context.signal)), { once: true }));
    aborted.catch(() => undefined);
    let data: Uint8Array;
    try {
      const msg = await Promise.race([
        this.nats.nc.request(toolSubject(this.config.TOOLPATH_SUBJECT_PREFIX, tool), encoder.encode(JSON.stringify(request)), { timeout }),
        aborted,
      ]);
      data = msg.data;
    } catch (err) {
      if (err instanceof ToolError) throw err;
      const code = (err as NatsError).code;
      if (code === ErrorCode.NoResponders) {
        if (await this.isRegistered(tool)) throw new ToolError('provider_down', `provider down: no provider of "${tool}" is running`, true);
        throw new ToolError('unknown_tool', `unknown tool "${tool}": not built in, no provider serves it, and it is not in the tool registry`, false);
      }
      if (code === ErrorCode.Timeout) throw new ToolError('timeout', `tool "${tool}" did not answer within ${timeout} ms`, true);
      throw new ToolError('network', `calling "${tool}" failed: ${(err as Error).message}`, true);
    }
    let reply;
    try {
      reply = ToolReplySchema.parse(JSON.parse(decoder.decode(data)));
    } catch {
      throw new ToolError('tool_error', `tool "${tool}" sent a reply that is not { ok, result | error }`, false);
    }
    if (reply.ok) return reply.result;
    throw new ToolError('tool_error', reply.error.message, reply.error.retryable);
  }

  /** Whether a provider announced the tool in the registry (then "no responders" means it is down). */
  private async isRegistered(tool: string): Promise<boolean> {
    this.registry ??= this.nats.js.views.kv(toolRegistryBucket(this.config.TOOLPATH_SUBJECT_PREFIX), { bindOnly: true }).catch(() => null);
    const kv = await this.registry;
    if (!kv) {
      this.registry = undefined;
      return false;
    }
    try {
      const entry = await kv.get(tool);
      return entry !== null && entry.operation === 'PUT';
    } catch {
      return false;
    }
  }
}
