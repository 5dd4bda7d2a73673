import { env } from '@toolpath/platform';

/** Settings of the recording MCP gateway (docs/MCP.md, "The recording gateway"). */
export const mcpGatewayConfigShape = {
  /** A recorded session with no call for this long ends (its session_end is published) as if its MCP session had closed. */
  TOOLPATH_MCP_GATEWAY_IDLE_MS: env.positiveInt.default(15 * 60_000),
  /** Recorded sessions kept open in memory; one more ends the least recently active. */
  TOOLPATH_MCP_GATEWAY_MAX_SESSIONS: env.positiveInt.default(10_000),
  /** Longest tool result kept in a recorded event, in characters (the client always gets the whole result). */
  TOOLPATH_MCP_GATEWAY_RESULT_MAX_CHARS: env.positiveInt.default(16_384),
};
