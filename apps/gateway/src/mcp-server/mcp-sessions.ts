import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { APP_CONFIG } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { createComposedServer, type ComposedServer } from './mcp-composed-server';
import { McpServerMetrics, type McpSessionEnd } from './mcp-server.metrics';
import { MCP_TOOL_PROVIDERS, type McpToolProvider } from './mcp-tool-provider';
import { WorkflowResources } from './workflow-resources';

/** One live MCP session: its transport, its server, and who it belongs to. */
export interface McpSession {
  id: string;
  tenantId: string;
  transport: StreamableHTTPServerTransport;
  composed: ComposedServer;
  lastSeen: number;
  /** Requests in progress and open streams (a GET stream): while above 0 the session is not idle. */
  active: number;
}

const SERVER_VERSION = '0.1.0';

/**
 * The live sessions of `/mcp` (stateful: `Mcp-Session-Id`), each bound to the tenant whose key
 * opened it. Bounded: past GATEWAY_MCP_MAX_SESSIONS, opening one closes the least recently used
 * (an idle one first); a session without traffic or open stream for GATEWAY_MCP_SESSION_IDLE_MS is
 * closed. A closed session's id answers 404, which tells a client to initialise again.
 */
@Injectable()
export class McpSessions implements OnModuleDestroy {
  private readonly log = new Logger('McpSessions');
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    @Inject(MCP_TOOL_PROVIDERS) private readonly providers: McpToolProvider[],
    private readonly resources: WorkflowResources,
    private readonly metrics: McpServerMetrics,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    const every = Math.max(50, Math.min(30_000, Math.floor(config.GATEWAY_MCP_SESSION_IDLE_MS / 4)));
    this.sweeper = setInterval(() => this.sweep(), every).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The tenant's session with this id (another tenant's is not found). */
  find(tenantId: string, id: string): McpSession | undefined {
    const s = this.sessions.get(id);
    return s && s.tenantId === tenantId ? s : undefined;
  }

  /** A new session for the tenant, its server connected; registered once the client's initialize is answered. */
  async open(tenantId: string): Promise<McpSession> {
    while (this.sessions.size >= this.config.GATEWAY_MCP_MAX_SESSIONS) this.evictOne();
    const session = {} as McpSession;
    // The server reads the context on every call; the session id is known once initialised.
    const ctx = { tenantId, mcpSessionId: '' };
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.id = id;
        ctx.mcpSessionId = id;
        this.sessions.set(id, session);
        this.metrics.sessions.set(this.sessions.size);
      },
      onsessionclosed: (id) => void this.close(id, 'client'),
    });
    const composed = createComposedServer(ctx, { providers: this.providers, resources: this.resources, metrics: this.metrics, log: this.log, version: SERVER_VERSION });
    Object.assign(session, { id: '', tenantId, transport, composed, lastSeen: Date.now(), active: 0 });
    transport.onclose = () => {
      composed.dispose();
      if (session.id && this.sessions.get(session.id) === session) {
        this.sessions.delete(session.id);
        this.metrics.sessions.set(this.sessions.size);
      }
    };
    await composed.server.connect(transport);
    return session;
  }

  async close(id: string, reason: McpSessionEnd): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    this.metrics.sessions.set(this.sessions.size);
    this.metrics.sessionsEnded.inc({ reason });
    try {
      await s.transport.close();
    } catch (err) {
      this.log.warn(`closing MCP session ${id} failed: ${(err as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id, 'shutdown')));
  }

  private evictOne(): void {
    // Idle sessions first, then the least recently used.
    const rank = (s: McpSession) => (s.active === 0 ? 0 : 1e15) + s.lastSeen;
    let victim: McpSession | undefined;
    for (const s of this.sessions.values()) if (!victim || rank(s) < rank(victim)) victim = s;
    if (!victim) return;
    this.log.log(`closing MCP session ${victim.id} of ${victim.tenantId}: ${this.config.GATEWAY_MCP_MAX_SESSIONS} sessions are live`);
    void this.close(victim.id, 'evicted');
  }

  private sweep(): void {
    const before = Date.now() - this.config.GATEWAY_MCP_SESSION_IDLE_MS;
    for (const s of [...this.sessions.values()]) if (s.active === 0 && s.lastSeen < before) void this.close(s.id, 'idle');
  }
}
