import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Collections, EXECUTIONS_COLLECTION } from '@toolpath/contracts';
import type { WorkflowDefinition } from '@toolpath/workflow';

/** What the generator knows of one catalog workflow without its steps. */
export interface CatalogEntry {
  id: string;
  name: string;
  description: string;
  category?: string;
  tags: string[];
  source: string;
  /** The tools its steps call, in order of first use. */
  tools: string[];
  /** Share of finished runs that completed (or the learned pattern's rate before any run); null when unknown. */
  successRate: number | null;
  runs: number;
  /**
   * The stored definition, kept with the snapshot so that an offline draft copies it without a
   * database read (FerretDB answers even an `_id` read in tens of ms under load).
   */
  definition: WorkflowDefinition;
}

interface CatalogRowProjection {
  id: string;
  tools?: string[];
  definition?: WorkflowDefinition;
}

/**
 * Read-only access to what other services own: the gateway's catalog (`workflows`), the
 * executor's runs (`executions`, for success rates) and the analyzer's patterns (the success
 * rate of a learned workflow that has not run yet). Reads are whole-tenant scans, made by
 * CatalogSnapshots when a tenant is first seen and in the background afterwards.
 */
@Injectable()
export class CatalogRepository {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  private collection(name: string) {
    return this.connection.db!.collection(name);
  }

  /** Live workflows of a tenant, newest first, at most `limit`; `truncated` when there were more. */
  async entries(tenantId: string, limit: number): Promise<{ entries: CatalogEntry[]; truncated: boolean }> {
    const rows = (await this.collection(Collections.workflows)
      .find(
        { tenantId, deletedAt: { $exists: false } },
        { projection: { _id: 0, id: 1, tools: 1, definition: 1 } },
      )
      .sort({ createdAt: -1 })
      .limit(limit + 1)
      .toArray()) as unknown as CatalogRowProjection[];
    const truncated = rows.length > limit;
    const [runs, learned] = await Promise.all([this.runCounts(tenantId), this.patternRates(tenantId)]);
    const entries: CatalogEntry[] = [];
    for (const row of truncated ? rows.slice(0, limit) : rows) {
      if (typeof row.id !== 'string' || !row.definition) continue;
      const d = row.definition;
      const counts = runs.get(row.id);
      const finished = counts ? counts.completed + counts.failed : 0;
      entries.push({
        id: row.id,
        name: String(d.name ?? row.id),
        description: String(d.description ?? ''),
        ...(typeof d.category === 'string' ? { category: d.category } : {}),
        tags: Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : [],
        source: String(d.source ?? 'user'),
        tools: Array.isArray(row.tools) ? row.tools.filter((t): t is string => typeof t === 'string') : [],
        successRate: finished > 0 ? counts!.completed / finished : (learned.get(row.id) ?? null),
        runs: finished,
        definition: d,
      });
    }
    return { entries, truncated };
  }

  /**
   * Finished runs per workflow: one `$group` per status, since FerretDB v1 computes only a
   * group's first accumulator correctly.
   */
  private async runCounts(tenantId: string): Promise<Map<string, { completed: number; failed: number }>> {
    const out = new Map<string, { completed: number; failed: number }>();
    const count = async (status: 'COMPLETED' | 'FAILED') => {
      const rows = await this.collection(EXECUTIONS_COLLECTION)
        .aggregate<{ _id: unknown; n: number }>([{ $match: { tenantId, status } }, { $group: { _id: '$workflowId', n: { $sum: 1 } } }])
        .toArray();
      for (const r of rows) {
        if (typeof r._id !== 'string') continue;
        const c = out.get(r._id) ?? { completed: 0, failed: 0 };
        if (status === 'COMPLETED') c.completed += r.n;
        else c.failed += r.n;
        out.set(r._id, c);
      }
    };
    await Promise.all([count('COMPLETED'), count('FAILED')]);
    return out;
  }

  /** Success rates of mined patterns promoted to catalog workflows (the analyzer's rows, read leniently). */
  private async patternRates(tenantId: string): Promise<Map<string, number>> {
    const rows = await this.collection(Collections.patterns)
      .find({ tenantId }, { projection: { promotedWorkflowId: 1, successRate: 1 } })
      .limit(10_000)
      .toArray();
    const out = new Map<string, number>();
    for (const r of rows) {
      if (typeof r.promotedWorkflowId === 'string' && typeof r.successRate === 'number' && Number.isFinite(r.successRate)) out.set(r.promotedWorkflowId, r.successRate);
    }
    return out;
  }
}
