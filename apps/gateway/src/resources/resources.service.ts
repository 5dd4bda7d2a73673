import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { BUILTIN_TOOLS, Collections } from '@toolpath/contracts';
import { mcpToolName, McpServerPool, type McpServerStatus } from '@toolpath/mcp';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import { ToolRegistry } from '@toolpath/sdk';
import type { GatewayConfig } from '../gateway.config';

export type ToolSource = 'builtin' | 'nats' | 'mcp';

/** One tool a workflow step can name, wherever it runs. */
export interface ToolResource {
  /** What a step's `tool` says: `http.request`, `github.get_pr`, `mcp:<server>/<tool>`. */
  name: string;
  source: ToolSource;
  description?: string;
  inputSchema?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  /** The MCP server (source mcp). */
  server?: string;
  /** Who announced it, and when (source nats). */
  provider?: unknown;
  updatedAt?: string;
  /** When the registry entry lapses unless its provider heartbeats again; absent = static (source nats). */
  expiresAt?: string;
}

export interface ToolListing {
  items: ToolResource[];
  nextCursor: null;
  /** Sources that could not be read this time (the rest is still listed). */
  warnings: Array<{ source: ToolSource; server?: string; message: string }>;
}

export interface AgentResource {
  agentId: string;
  events: number;
  failed: number;
  successRate: number | null;
  /** The agent's most used tools (up to 10), with counts. */
  tools: Array<{ tool: string; count: number }>;
}

export interface McpResource extends McpServerStatus {
  /** The command line or URL (never env values or headers, which may hold secrets). */
  target: string;
}

/**
 * ListResources: what a workflow author (or the generator) can build with. Built-ins come from
 * the contracts, NATS providers from the tool registry (live entries only: a provider that
 * stopped heartbeating drops out), MCP tools from the configured servers;
 * agents from the tenant's events.
 */
@Injectable()
export class ResourcesService implements OnApplicationShutdown {
  readonly mcp: McpServerPool;
  private registry?: ToolRegistry;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly nats: NatsClient,
    @InjectConnection() private readonly connection: Connection,
  ) {
    this.mcp = McpServerPool.fromSettings(config);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mcp.close();
  }

  async tools(opts: { source?: ToolSource; refresh?: boolean }): Promise<ToolListing> {
    const warnings: ToolListing['warnings'] = [];
    const want = (s: ToolSource) => !opts.source || opts.source === s;
    const [nats, mcp] = await Promise.all([want('nats') ? this.natsTools(warnings) : [], want('mcp') ? this.mcpTools(warnings, opts.refresh) : []]);
    const builtins: ToolResource[] = want('builtin')
      ? BUILTIN_TOOLS.map((t) => ({
          name: t.name,
          source: 'builtin' as const,
          description: t.description,
          inputSchema: t.inputSchema as Record<string, unknown>,
          ...(t.outputSchema ? { outputSchema: t.outputSchema as Record<string, unknown> } : {}),
        }))
      : [];
    return { items: [...builtins, ...nats, ...mcp], nextCursor: null, warnings };
  }

  /**
   * Agents seen in the tenant's events since `since`, with counts. Two `$group`s with one
   * accumulator each (FerretDB v1 computes only the first accumulator of a group correctly).
   */
  async agents(tenantId: string, since: Date): Promise<AgentResource[]> {
    const events = this.connection.db!.collection(Collections.toolEvents);
    const match = { tenantId, kind: 'tool_call', agentId: { $exists: true, $ne: null }, startedAt: { $gte: since } };
    const [byTool, failures] = await Promise.all([
      events
        .aggregate<{ _id: { agentId: string; tool: string }; n: number }>([{ $match: match }, { $group: { _id: { agentId: '$agentId', tool: '$tool' }, n: { $sum: 1 } } }], {
          maxTimeMS: this.config.DEPENDENCY_TIMEOUT_MS * 2,
        })
        .toArray(),
      events
        .aggregate<{ _id: string; n: number }>([{ $match: { ...match, success: false } }, { $group: { _id: '$agentId', n: { $sum: 1 } } }], {
          maxTimeMS: this.config.DEPENDENCY_TIMEOUT_MS * 2,
        })
        .toArray(),
    ]);
    const failed = new Map(failures.map((f) => [f._id, f.n]));
    const agents = new Map<string, AgentResource>();
    for (const row of byTool) {
      const id = row._id.agentId;
      if (typeof id !== 'string') continue;
      let a = agents.get(id);
      if (!a) {
        a = { agentId: id, events: 0, failed: failed.get(id) ?? 0, successRate: null, tools: [] };
        agents.set(id, a);
      }
      a.events += row.n;
      a.tools.push({ tool: row._id.tool, count: row.n });
    }
    for (const a of agents.values()) {
      a.successRate = a.events > 0 ? Math.round(((a.events - a.failed) / a.events) * 1000) / 1000 : null;
      a.tools = a.tools.sort((x, y) => y.count - x.count || x.tool.localeCompare(y.tool)).slice(0, 10);
    }
    return [...agents.values()].sort((x, y) => y.events - x.events || x.agentId.localeCompare(y.agentId));
  }

  /** Configured MCP servers with their state; `probe` connects (or reuses the cached list) to count tools. */
  async mcps(probe: boolean): Promise<McpResource[]> {
    if (probe) await this.mcp.listTools();
    return this.mcp.status().map((s) => {
      const c = this.mcp.connection(s.name)!.config;
      return { ...s, target: c.transport === 'stdio' ? [c.command, ...c.args].join(' ') : redactUrl(c.url) };
    });
  }

  private async natsTools(warnings: ToolListing['warnings']): Promise<ToolResource[]> {
    this.registry ??= new ToolRegistry(this.nats.nc, this.config.TOOLPATH_SUBJECT_PREFIX);
    const timeout = this.config.DEPENDENCY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      const entries = await Promise.race([
        this.registry.list(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the tool registry did not answer within ${timeout} ms`)), timeout);
        }),
      ]);
      return entries.map((e) => ({
        name: e.name,
        source: 'nats' as const,
        description: e.description,
        inputSchema: e.inputSchema as Record<string, unknown>,
        ...(e.outputSchema ? { outputSchema: e.outputSchema as Record<string, unknown> } : {}),
        provider: e.provider,
        updatedAt: e.updatedAt,
        ...(e.expiresAt ? { expiresAt: e.expiresAt } : {}),
      }));
    } catch (err) {
      warnings.push({ source: 'nats', message: (err as Error).message });
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  private async mcpTools(warnings: ToolListing['warnings'], refresh?: boolean): Promise<ToolResource[]> {
    if (this.mcp.size === 0) return [];
    const listing = await this.mcp.listTools({ refresh });
    for (const e of listing.errors) warnings.push({ source: 'mcp', server: e.server, message: e.message });
    return listing.tools.map((t) => ({
      name: mcpToolName(t.server, t.name),
      source: 'mcp' as const,
      server: t.server,
      ...(t.description ? { description: t.description } : {}),
      inputSchema: t.inputSchema,
      ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
    }));
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
