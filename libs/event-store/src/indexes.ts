import type { IndexDescription } from 'mongodb';

/**
 * Indexes of `tool_events`. `_id` (`<tenantId>:<eventId>`) is the unique natural key; every other
 * index leads with tenantId because every read is scoped to one tenant.
 */
export const TOOL_EVENT_INDEXES: IndexDescription[] = [
  { key: { tenantId: 1, sessionId: 1, seq: 1, startedAt: 1 }, name: 'tenant_session_order' },
  { key: { tenantId: 1, startedAt: -1 }, name: 'tenant_started' },
  { key: { tenantId: 1, tool: 1, startedAt: -1 }, name: 'tenant_tool_started' },
  { key: { tenantId: 1, streamSeq: 1 }, name: 'tenant_stream_seq' },
];

export const REJECTED_EVENT_INDEXES: IndexDescription[] = [{ key: { tenantId: 1, receivedAt: -1 }, name: 'tenant_received' }];
