import { z } from 'zod';
import { TENANT_ID_PATTERN } from '@toolpath/contracts';
import { mcpConfigShape } from '@toolpath/mcp';
import { baseConfigShape, env } from '@toolpath/platform';
import { openAiProxyConfigShape } from './openai-proxy/openai-proxy.config';
import { libraryConfigShape } from './library/library.config';
import { mcpServerConfigShape } from './mcp-server/mcp-server.config';
import { mcpGatewayConfigShape } from './mcp-gateway/mcp-gateway.config';

/** `key:tenant,key:tenant`: each API key belongs to exactly one tenant. */
const apiKeys = z
  .string({ error: 'TOOLPATH_API_KEYS is required: "key:tenant,..." (the start script makes a development key)' })
  .transform((raw, ctx) => {
    const keys = new Map<string, string>();
    for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      const at = pair.lastIndexOf(':');
      const key = pair.slice(0, at);
      const tenant = pair.slice(at + 1);
      if (at <= 0 || key.length < 16 || !TENANT_ID_PATTERN.test(tenant)) {
        ctx.addIssue({ code: 'custom', message: `entry "${pair.slice(0, 6)}…" must be key:tenant with a key of 16+ characters and a tenant matching ${TENANT_ID_PATTERN}` });
        return z.NEVER;
      }
      keys.set(key, tenant);
    }
    if (keys.size === 0) {
      ctx.addIssue({ code: 'custom', message: 'no API keys configured' });
      return z.NEVER;
    }
    return keys;
  });

export const gatewayConfigSchema = z.object({
  ...baseConfigShape,
  TOOLPATH_API_KEYS: apiKeys,
  /** Largest request body; a batch of events may be many times one event's 1 MB limit. */
  GATEWAY_BODY_LIMIT_BYTES: env.positiveInt.default(16 * 1024 * 1024),
  /** JetStream publish acknowledgement wait for REST-submitted events. */
  GATEWAY_PUBLISH_TIMEOUT_MS: env.positiveInt.default(5000),
  /** How long a request to the executor (start, get, list, cancel) waits before answering 503. */
  GATEWAY_EXECUTOR_TIMEOUT_MS: env.positiveInt.default(5000),
  /** Comment line sent on an idle execution stream, so proxies and clients keep it open. */
  GATEWAY_SSE_HEARTBEAT_MS: env.positiveInt.default(15_000),
  /** BullMQ key prefix of the executor's queues; the dashboard wraps it in a hash tag: `{<prefix>}`. */
  TOOLPATH_QUEUE_PREFIX: env.subjectToken.default('toolpath'),
  /**
   * Tenants whose keys may open /queues (comma-separated). The dashboard shows every tenant's
   * jobs, so with keys of several tenants only those named here get in (none while it is empty);
   * with one tenant's keys, empty lets them in.
   */
  GATEWAY_QUEUES_TENANTS: z
    .string()
    .default('')
    .transform((raw) => new Set(raw.split(',').map((t) => t.trim()).filter(Boolean))),
  /** The web console's build, served at `/` (default: apps/console/dist beside the gateway). */
  GATEWAY_CONSOLE_DIR: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  /** How long a console session (the cookie issued at sign-in) lasts. */
  GATEWAY_SESSION_TTL_HOURS: env.positiveInt.default(12),
  ...openAiProxyConfigShape,
  /** MCP servers listed under /workflows/resources (docs/MCP.md). */
  ...mcpConfigShape,
  /** The recording MCP gateway's sessions (docs/MCP.md, "The recording gateway"). */
  ...mcpGatewayConfigShape,
  ...libraryConfigShape,
  /** Toolpath's own MCP server at /mcp (docs/MCP.md). */
  ...mcpServerConfigShape,
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
