import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Filter } from 'mongodb';
import { WorkflowCollections, type WorkflowOrigin, type WorkflowRow } from '../workflows/workflow.repository';

/** A catalog workflow without its steps: what search ranks on. */
export interface CatalogSummary {
  id: string;
  version: number;
  name: string;
  description: string;
  category?: string;
  tags: string[];
  source: string;
  tools: string[];
  updatedAt: string;
  origin?: WorkflowOrigin;
}

export interface CatalogFilter {
  category?: string;
  tag?: string;
  source?: string;
  /** The workflow calls this tool. */
  tool?: string;
}

/**
 * Reads the catalog for search: the tenant's live workflows matching the exact filters, with a
 * projection that leaves the steps out, newest first and bounded (FerretDB scans the collection
 * whatever the filter, so the bound is what keeps a search cheap). Ranking happens in the service.
 */
@Injectable()
export class CatalogSearchRepository {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  async summaries(tenantId: string, f: CatalogFilter, limit: number): Promise<{ items: CatalogSummary[]; truncated: boolean }> {
    const filter: Filter<WorkflowRow> = { tenantId, deletedAt: { $exists: false } };
    if (f.category !== undefined) filter['definition.category'] = f.category;
    if (f.source !== undefined) filter['definition.source'] = f.source;
    if (f.tag !== undefined) filter['definition.tags'] = f.tag;
    if (f.tool !== undefined) filter.tools = f.tool;
    const rows = await this.connection
      .db!.collection<WorkflowRow>(WorkflowCollections.workflows)
      .find(filter, {
        projection: {
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
        },
      })
      .sort({ createdAt: -1 })
      .limit(limit + 1)
      .toArray();
    const items = rows.slice(0, limit).map((r) => ({
      id: r.id,
      version: r.version,
      name: r.definition?.name ?? r.id,
      description: r.definition?.description ?? '',
      ...(r.definition?.category !== undefined ? { category: r.definition.category } : {}),
      tags: r.definition?.tags ?? [],
      source: r.definition?.source ?? 'user',
      tools: r.tools ?? [],
      updatedAt: r.updatedAt instanceof Date ? r.updatedAt.toISOString() : String(r.updatedAt),
      ...(r.origin ? { origin: r.origin } : {}),
    }));
    return { items, truncated: rows.length > limit };
  }
}
