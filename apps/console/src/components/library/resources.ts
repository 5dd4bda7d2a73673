/**
 * The resources answers as the gateway sends them (apps/gateway/src/resources). The OpenAPI
 * document types some of their fields loosely (a tool's provider, an agent's tools, the tools
 * listing's warnings), so the page reads them through these.
 */
export interface ToolResource {
  name: string;
  source: 'builtin' | 'nats' | 'mcp';
  description?: string;
  server?: string;
  provider?: unknown;
  updatedAt?: string;
  expiresAt?: string;
}

export interface ToolListing {
  items: ToolResource[];
  warnings?: Array<{ source: string; server?: string; message: string }>;
}

export interface McpServer {
  name: string;
  transport: 'stdio' | 'http';
  target: string;
  state: 'idle' | 'connecting' | 'connected' | 'failed' | 'closed';
  toolCount: number | null;
  toolsFetchedAt: string | null;
  connectedAt: string | null;
  lastError: string | null;
  failures: number;
}

export interface AgentActivity {
  agentId: string;
  events: number;
  failed: number;
  successRate: number | null;
  tools: Array<{ tool: string; count: number }>;
  /** The start time of its newest event (ISO-8601). */
  lastSeenAt: string | null;
}

/** Who announced a NATS tool: the registry stores `{ id, sdk, ... }`; anything else is shown as JSON. */
export function providerLabel(provider: unknown): string {
  if (provider === undefined || provider === null) return '';
  if (typeof provider === 'object') {
    const p = provider as { id?: unknown; sdk?: unknown };
    if (typeof p.id === 'string') return typeof p.sdk === 'string' ? `${p.id} (${p.sdk})` : p.id;
  }
  return JSON.stringify(provider);
}

/** Badge colour of an MCP server's connection state. */
export const STATE_COLOUR: Record<McpServer['state'], string> = { connected: 'green', connecting: 'blue', idle: 'gray', closed: 'gray', failed: 'red' };
