import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BUILTIN_TOOLS } from '@toolpath/contracts';
import { ToolEventReader, type AgentActivity } from '@toolpath/event-store';
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

export type AgentResource = AgentActivity;

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
    private readonly events: ToolEventReader,
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

  /** Agents seen in the tenant's events since `since`, with counts (read through the event store). */
  agents(tenantId: string, since: Date): Promise<AgentResource[]> {
    return this.events.agents(tenantId, since, { maxTimeMS: this.config.DEPENDENCY_TIMEOUT_MS * 2 });
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
