import { z } from 'zod';
import { env } from '@toolpath/platform';

/** Settings of Toolpath's MCP server at `/mcp` (docs/MCP.md, "Toolpath as an MCP server"). */
export const mcpServerConfigShape = {
  /**
   * Catalog workflows offered as MCP tools of their own: those carrying this tag. Empty (the
   * default): every workflow of source `learned`, which is what promotion stores.
   */
  GATEWAY_MCP_WORKFLOW_TAG: z
    .string()
    .max(64)
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined)),
  /** Workflow tools offered at most per tenant (the newest); a client reads every tool description. */
  GATEWAY_MCP_MAX_WORKFLOW_TOOLS: env.positiveInt.max(1000).default(100),
  /**
   * How often the chosen workflows are re-read for tenants with live MCP sessions, to see writes
   * made through another gateway instance (this instance's own writes are seen at once).
   */
  GATEWAY_MCP_CATALOG_POLL_MS: env.positiveInt.default(60_000),
  /** Live MCP sessions at most, all tenants together; past it the least recently used one is closed. */
  GATEWAY_MCP_MAX_SESSIONS: env.positiveInt.default(1000),
  /** An MCP session without a request or an open stream for this long is closed. */
  GATEWAY_MCP_SESSION_IDLE_MS: env.positiveInt.default(30 * 60_000),
  /** How long `run_workflow` and a workflow tool wait for the run when the call does not say. */
  GATEWAY_MCP_RUN_WAIT_MS: env.positiveInt.max(600_000).default(30_000),
};
