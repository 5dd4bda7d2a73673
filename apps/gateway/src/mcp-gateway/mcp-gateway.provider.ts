import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { mcpToolName, McpToolError, type McpServerPool, type McpToolInfo } from '@toolpath/mcp';
import { APP_CONFIG, MetricsService, NatsClient } from '@toolpath/platform';
import type { Counter } from 'prom-client';
import type { GatewayConfig } from '../gateway.config';
import type { McpCallContext, McpCallExtras, McpToolProvider } from '../mcp-server/mcp-tool-provider';
import { ResourcesService } from '../resources/resources.service';
import { callError, cleanIntent, MCP_GATEWAY_SOURCE, sessionEndEvent, toolCallEvent } from './call-events';
import { NAMESPACE_SEPARATOR, serverOfName, ToolDirectory, type UpstreamTool } from './namespaced-tools';
import { RecordedSessions, type RecordedSession, type SessionEndReason } from './recorded-sessions';
import { TenantPublishers } from '../events/tenant-publishers';

export const SET_INTENT_TOOL = 'set_intent';

const SET_INTENT: Tool = {
  name: SET_INTENT_TOOL,
  title: 'Set the task intent',
  description:
    'Say what you are working on, in your own words (e.g. "triage a bug report"), before or while calling the other tools of this server. ' +
    'Toolpath records the calls of this session with that intent, so the tool sequences that worked can be suggested for similar tasks later.',
  inputSchema: {
    type: 'object',
    properties: { intent: { type: 'string', minLength: 1, maxLength: 10_000, description: 'The task of this session' } },
    required: ['intent'],
    additionalProperties: false,
  },
};

type Outcome = 'ok' | 'tool_error' | 'failed';

/**
 * The recording MCP gateway: the tools of the MCP servers registered as resources
 * (TOOLPATH_MCP_SERVERS, the pool the resources API lists), offered on Toolpath's `/mcp` as
 * `<server>__<tool>`. Each call is forwarded to its server (bounded by that server's call
 * timeout) and recorded as a tool-call event named `mcp:<server>/<tool>`, the name a workflow
 * step runs it by; a session's calls end with a session_end when its MCP session closes or goes
 * idle. Upstream failures are answered as tool errors naming the server, never thrown.
 */
@Injectable()
export class McpGatewayProvider implements McpToolProvider, OnApplicationShutdown {
  private readonly log = new Logger('McpGateway');
  private readonly pool: McpServerPool;
  private readonly sessions: RecordedSessions;
  private readonly publishers: TenantPublishers;
  private readonly sweeper: NodeJS.Timeout;
  private readonly calls: Counter<'server' | 'outcome'>;
  private readonly recordErrors: Counter;
  private directory = new ToolDirectory([]);
  private reportedCollisions = '';

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig, resources: ResourcesService, nats: NatsClient, metrics: MetricsService) {
    this.pool = resources.mcp;
    this.calls = metrics.counter('toolpath_gateway_mcp_gateway_calls_total', 'Tool calls forwarded by the recording MCP gateway, by server and outcome', ['server', 'outcome']);
    this.recordErrors = metrics.counter('toolpath_gateway_mcp_gateway_record_errors_total', 'Events of the recording MCP gateway that could not be queued or were dropped');
    this.publishers = new TenantPublishers(() => nats.nc, {
      subjectPrefix: config.TOOLPATH_SUBJECT_PREFIX,
      source: MCP_GATEWAY_SOURCE,
      publishTimeoutMs: config.GATEWAY_PUBLISH_TIMEOUT_MS,
      onError: (err) => {
        this.recordErrors.inc();
        this.log.warn(`recording: ${err.message}`);
      },
    });
    this.sessions = new RecordedSessions({
      idleMs: config.TOOLPATH_MCP_GATEWAY_IDLE_MS,
      maxSessions: config.TOOLPATH_MCP_GATEWAY_MAX_SESSIONS,
      onEnd: (s, reason) => this.recordEnd(s, reason),
    });
    const every = Math.max(50, Math.min(30_000, Math.floor(config.TOOLPATH_MCP_GATEWAY_IDLE_MS / 4)));
    this.sweeper = setInterval(() => this.sessions.sweep(), every);
    this.sweeper.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.sessions.endAll();
    await this.publishers.close();
  }

  /** Open recorded sessions (tests, metrics). */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** Resolves when every recorded event is acknowledged by the stream or dropped (tests, benchmarks). */
  flush(timeoutMs = 5000): Promise<void> {
    return this.publishers.flush(timeoutMs);
  }

  /** The same servers for every tenant: the registered MCP servers are the deployment's, not a tenant's. */
  async listTools(_ctx?: McpCallContext): Promise<Tool[]> {
    if (this.pool.size === 0) return [];
    const listing = await this.pool.listTools();
    for (const e of listing.errors) this.log.warn(`MCP server "${e.server}" not listed: ${e.message}`);
    const directory = this.refreshDirectory(listing.tools);
    return [SET_INTENT, ...[...directory.byName.entries()].map(([name, t]) => toolOf(name, t.info))];
  }

  async callTool(ctx: McpCallContext, name: string, args: Record<string, unknown>, extras: McpCallExtras): Promise<CallToolResult | undefined> {
    if (this.pool.size === 0) return undefined;
    if (name === SET_INTENT_TOOL) return this.setIntent(ctx, args);
    const target = await this.resolve(name);
    if (!target) return undefined;
    if ('unknown' in target) return target.unknown;
    return this.forward(ctx, target, args ?? {}, extras);
  }

  sessionClosed(ctx: McpCallContext): void {
    this.sessions.mcpSessionClosed(ctx);
  }

  private async forward(ctx: McpCallContext, target: Pick<UpstreamTool, 'server' | 'tool'>, args: Record<string, unknown>, extras: McpCallExtras): Promise<CallToolResult> {
    const session = this.sessions.session(ctx);
    if (ctx.intent?.trim()) session.intent = cleanIntent(ctx.intent);
    const seq = this.sessions.callStarted(session);
    const startedAt = Date.now();
    const t0 = performance.now();
    let result: CallToolResult | undefined;
    let failure: string | undefined;
    const connection = this.pool.connection(target.server);
    try {
      if (!connection) throw new McpToolError('unknown_server', `MCP server "${target.server}" is no longer configured`, false);
      result = await connection.callToolResult(target.tool, args, {
        signal: extras.signal,
        ...(extras.progress ? { onProgress: relayProgress(extras.progress) } : {}),
      });
    } catch (err) {
      failure = err instanceof McpToolError ? err.message : `MCP server "${target.server}" failed during tool "${target.tool}": ${(err as Error)?.message ?? String(err)}`;
    }
    const durationMs = performance.now() - t0;
    const tool = mcpToolName(target.server, target.tool);
    const call = { tool, seq, args, result, failure, startedAt, durationMs };
    const error = callError(call);
    const outcome: Outcome = failure !== undefined ? 'failed' : error !== undefined ? 'tool_error' : 'ok';
    this.calls.inc({ server: target.server, outcome });
    const event = toolCallEvent(session, call, this.config.TOOLPATH_MCP_GATEWAY_RESULT_MAX_CHARS);
    this.publishers.publish(ctx.tenantId, event);
    this.sessions.callFinished(session, tool, error);
    const answer: CallToolResult = result ?? { isError: true, content: [{ type: 'text', text: failure ?? 'the call failed' }] };
    // Where the call was recorded, so a client (or a test) can find its event.
    return { ...answer, _meta: { ...answer._meta, 'toolpath/sessionId': session.sessionId, 'toolpath/eventId': event.eventId } };
  }

  private setIntent(ctx: McpCallContext, args: Record<string, unknown>): CallToolResult {
    const raw = args?.intent;
    if (typeof raw !== 'string' || raw.trim() === '') {
      const message = 'give the task of this session as a non-empty string, e.g. {"intent": "triage a bug report"}';
      return errorResult('invalid_arguments', `invalid arguments for ${SET_INTENT_TOOL}: intent: ${message}`, [{ field: 'intent', message }]);
    }
    const session = this.sessions.session(ctx);
    session.intent = cleanIntent(raw);
    return {
      content: [{ type: 'text', text: `Intent of session "${session.sessionId}" set: ${session.intent}` }],
      structuredContent: { sessionId: session.sessionId, intent: session.intent },
    };
  }

  /**
   * The upstream tool behind a gateway name: from the last listing, else from a fresh one (the
   * pool caches it per server). A name in a configured server's namespace that the server does
   * not list is answered with an MCP tool error (`unknown_tool`, not forwarded, not recorded);
   * when that server could not list its tools (it is down), the call is forwarded anyway and
   * fails as a tool error naming the server. Other names are not ours.
   */
  private async resolve(name: string): Promise<Pick<UpstreamTool, 'server' | 'tool'> | { unknown: CallToolResult } | undefined> {
    const known = this.directory.get(name);
    if (known) return known;
    const server = serverOfName(name, this.pool.serverNames());
    if (!server) return undefined;
    const listing = await this.pool.listTools();
    const found = this.refreshDirectory(listing.tools).get(name);
    if (found) return found;
    const rest = name.slice(server.length + NAMESPACE_SEPARATOR.length);
    if (listing.errors.some((e) => e.server === server)) return { server, tool: rest };
    return { unknown: errorResult('unknown_tool', `unknown tool "${name}": MCP server "${server}" has no tool "${rest}" (tools/list shows what it offers)`, [{ field: 'name', message: 'unknown tool' }]) };
  }

  private refreshDirectory(tools: McpToolInfo[]): ToolDirectory {
    this.directory = new ToolDirectory(tools);
    const collisions = this.directory.collisions.join(', ');
    if (collisions && collisions !== this.reportedCollisions) this.log.warn(`MCP tools left out, their gateway names are taken: ${collisions}`);
    this.reportedCollisions = collisions;
    return this.directory;
  }

  private recordEnd(s: RecordedSession, reason: SessionEndReason): void {
    // A session where only the intent was set taught nothing.
    if (s.calls === 0 && s.inFlight === 0) return;
    this.publishers.publish(s.tenantId, sessionEndEvent(s, reason));
  }
}

/**
 * A tool error the calling model reads, shaped like the other providers' (`isError`, the message,
 * `structuredContent.error` with a code and the fields). Only for results of the gateway's own
 * making: an upstream tool with an output schema gets no structuredContent in its error results,
 * which the SDK client would check against that schema.
 */
function errorResult(code: string, message: string, fields: Array<{ field: string; message: string }>): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }], structuredContent: { error: { code, message, fields } } };
}

function toolOf(name: string, info: McpToolInfo): Tool {
  return {
    name,
    ...(info.description ? { description: info.description } : {}),
    inputSchema: info.inputSchema as Tool['inputSchema'],
    ...(info.outputSchema ? { outputSchema: info.outputSchema as Tool['outputSchema'] } : {}),
    _meta: { 'toolpath/server': info.server, 'toolpath/tool': info.name },
  };
}

/** Upstream progress goes on to the client; a client that went away is not an error of the call. */
function relayProgress(progress: NonNullable<McpCallExtras['progress']>) {
  return (p: { progress: number; total?: number; message?: string }) => {
    progress(p.progress, p.total, p.message).catch(() => undefined);
  };
}
