import type { Collection, Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';

/** What suggestions need of a catalog workflow (the gateway owns the rows; this is a read). */
export interface CatalogWorkflow {
  id: string;
  name: string;
  description: string;
  tags: string[];
  source: 'user' | 'learned' | 'generated' | 'template';
  /** Tools of the steps in definition order. */
  tools: string[];
  definition: Record<string, unknown>;
}

interface CatalogRow {
  _id: string;
  tenantId: string;
  id: string;
  definition: { name?: string; description?: string; tags?: string[]; source?: string; steps?: Array<{ tool?: string }> } & Record<string, unknown>;
  deletedAt?: Date;
}

/** Workflows read per tenant at most for suggestions. */
const MAX_CATALOG = 20_000;

/** Reads a tenant's live catalog workflows (one scan per refresh, not per query). */
export class CatalogReader {
  private readonly rows: Collection<CatalogRow>;

  constructor(db: Db) {
    this.rows = db.collection<CatalogRow>(Collections.workflows);
  }

  async list(tenantId: string): Promise<CatalogWorkflow[]> {
    const rows = await this.rows
      .find({ tenantId }, { projection: { id: 1, definition: 1, deletedAt: 1 } })
      .limit(MAX_CATALOG)
      .toArray();
    const out: CatalogWorkflow[] = [];
    for (const r of rows) {
      if (r.deletedAt || !r.definition) continue;
      const d = r.definition;
      const source = d.source === 'learned' || d.source === 'generated' || d.source === 'template' ? d.source : 'user';
      out.push({
        id: r.id,
        name: typeof d.name === 'string' ? d.name : r.id,
        description: typeof d.description === 'string' ? d.description : '',
        tags: Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : [],
        source,
        tools: (d.steps ?? []).map((s) => s?.tool).filter((t): t is string => typeof t === 'string'),
        definition: { ...d, id: r.id },
      });
    }
    return out;
  }
}

/** Tag a promoted workflow carries, tying it back to its pattern. */
export function patternTag(patternId: string): string {
  return `pattern-${patternId}`;
}
