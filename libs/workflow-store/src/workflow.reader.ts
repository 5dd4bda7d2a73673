import type { Collection, Db, Filter } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { toolsOfWorkflow, workflowCard, type WorkflowCard, type WorkflowDefinition } from '@toolpath/workflow';
import type { WorkflowOrigin, WorkflowRow } from './workflow-rows';

/** A catalog workflow's card with its stored definition (what drafting and suggestions copy). */
export interface CatalogWorkflow extends WorkflowCard {
  definition: WorkflowDefinition;
}

/** A catalog workflow's card with its version and times, read without its steps (what search ranks). */
export interface WorkflowSummary extends WorkflowCard {
  version: number;
  updatedAt: string;
  origin?: WorkflowOrigin;
}

/** Exact filters of the catalog listing and search. */
export interface CatalogFilter {
  category?: string;
  tag?: string;
  source?: string;
  /** The workflow calls this tool (one of `toolsOfWorkflow`). */
  tool?: string;
}

/** A tenant's live workflows matching `f` (the listing's filter, and search's). */
export function catalogFilter(tenantId: string, f: CatalogFilter): Filter<WorkflowRow> {
  const filter: Filter<WorkflowRow> = { tenantId, deletedAt: { $exists: false } };
  if (f.category !== undefined) filter['definition.category'] = f.category;
  if (f.source !== undefined) filter['definition.source'] = f.source;
  if (f.tag !== undefined) filter['definition.tags'] = f.tag;
  if (f.tool !== undefined) filter.tools = f.tool;
  return filter;
}

/** The fields a summary reads: everything but the steps. */
const SUMMARY_PROJECTION = {
  _id: 0,
  id: 1,
  version: 1,
  tools: 1,
  origin: 1,
  updatedAt: 1,
  'definition.name': 1,
  'definition.description': 1,
  'definition.category': 1,
  'definition.tags': 1,
  'definition.source': 1,
} as const;

/**
 * Reads of the catalog for the services that do not own it (the gateway is its single writer).
 * Every method takes the tenant first and is bounded: newest first, at most `limit`, `truncated`
 * when there were more (FerretDB scans the collection whatever the filter, so the bound is what
 * keeps a read cheap).
 */
export class WorkflowReader {
  private readonly rows: Collection<WorkflowRow>;

  constructor(db: Db) {
    this.rows = db.collection<WorkflowRow>(Collections.workflows);
  }

  /** Live workflows with their definitions. */
  async withDefinitions(tenantId: string, limit: number): Promise<{ items: CatalogWorkflow[]; truncated: boolean }> {
    const rows = await this.rows
      .find(catalogFilter(tenantId, {}), { projection: { _id: 0, id: 1, tools: 1, definition: 1 } })
      .sort({ createdAt: -1 })
      .limit(limit + 1)
      .toArray();
    const items: CatalogWorkflow[] = [];
    for (const row of rows.slice(0, limit)) {
      if (typeof row.id !== 'string' || !row.definition) continue;
      const tools = Array.isArray(row.tools) ? row.tools : toolsOfWorkflow(row.definition);
      items.push({ ...workflowCard(row.id, row.definition, tools), definition: row.definition });
    }
    return { items, truncated: rows.length > limit };
  }

  /** Live workflows matching the exact filters, without their steps. */
  async summaries(tenantId: string, f: CatalogFilter, limit: number): Promise<{ items: WorkflowSummary[]; truncated: boolean }> {
    const rows = await this.rows
      .find(catalogFilter(tenantId, f), { projection: SUMMARY_PROJECTION })
      .sort({ createdAt: -1 })
      .limit(limit + 1)
      .toArray();
    const items = rows.slice(0, limit).map((r) => ({
      ...workflowCard(r.id, r.definition ?? {}, r.tools ?? []),
      version: r.version,
      updatedAt: r.updatedAt instanceof Date ? r.updatedAt.toISOString() : String(r.updatedAt),
      ...(r.origin ? { origin: r.origin } : {}),
    }));
    return { items, truncated: rows.length > limit };
  }
}
