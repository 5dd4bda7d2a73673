import type { Db, IndexDescription } from 'mongodb';

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

/**
 * Which secondary indexes to create: `all`, or `auto` = all on MongoDB and none on FerretDB v1.
 * FerretDB creates them (as PostgreSQL btrees on `_jsonb -> 'field'`) but its queries filter with
 * `_jsonb @> ...`, which no such index serves, so they would only cost every insert (about 30 %
 * of a batch write here; docs/INFRASTRUCTURE.md) and never speed up a read.
 */
export type SecondaryIndexPolicy = 'auto' | 'all';

/** The server is FerretDB (its buildInfo carries `ferretdbVersion`). */
export async function isFerretDb(db: Db): Promise<boolean> {
  const info = (await db.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: unknown };
  return info.ferretdbVersion !== undefined;
}

/** The secondary indexes of `tool_events` to create on this server under `policy`. */
export async function toolEventIndexesFor(db: Db, policy: SecondaryIndexPolicy = 'auto'): Promise<IndexDescription[]> {
  if (policy === 'all') return TOOL_EVENT_INDEXES;
  return (await isFerretDb(db)) ? [] : TOOL_EVENT_INDEXES;
}
