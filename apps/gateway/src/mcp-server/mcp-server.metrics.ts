import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '@toolpath/platform';

/** What went wrong with a call the server refused (label `reason`). */
export type McpBadInput = 'unknown_tool' | 'invalid_arguments';

/** Why a session ended (label `reason`). */
export type McpSessionEnd = 'client' | 'idle' | 'evicted' | 'shutdown';

/** Toolpath's MCP server on /metrics: calls by outcome, refused input, live sessions. */
@Injectable()
export class McpServerMetrics {
  readonly calls: Counter<'outcome'>;
  readonly callSeconds: Histogram<never>;
  readonly badInput: Counter<'reason'>;
  readonly sessions: Gauge<never>;
  readonly sessionsEnded: Counter<'reason'>;

  constructor(metrics: MetricsService) {
    this.calls = metrics.counter('toolpath_mcp_tool_calls_total', 'MCP tools/call requests by outcome (ok, error: the tool answered isError)', ['outcome']);
    this.callSeconds = metrics.histogram('toolpath_mcp_tool_call_seconds', 'Duration of MCP tools/call requests', [], [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5, 30, 120]);
    this.badInput = metrics.counter('toolpath_mcp_bad_input_total', 'MCP tool calls refused: an unknown tool, or arguments that do not match its input schema', ['reason']);
    this.sessions = metrics.gauge('toolpath_mcp_sessions', 'Live MCP sessions on /mcp');
    this.sessionsEnded = metrics.counter('toolpath_mcp_sessions_ended_total', 'MCP sessions ended: closed by the client, idle too long, evicted past the bound, or at shutdown', ['reason']);
  }
}
