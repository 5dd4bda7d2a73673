import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { inWriteChunks } from '@toolpath/platform';
import type { MinedPattern } from '@toolpath/mining';
import type { PatternRow } from '@toolpath/pattern-store';
import { patternFigures, type TenantPatternViews } from './pattern-views';


/**
 * The analyzer is the single writer of `patterns` (the row type and others' reads are in
 * `@toolpath/pattern-store`). Each run writes only the patterns whose figures changed (by a
 * signature kept per tenant in memory) and deletes the ones no longer listed, in bulk, every
 * operation addressed by `_id`.
 */
export class PatternRepository {
  private readonly rows: Collection<PatternRow>;

  constructor(db: Db) {
    this.rows = db.collection<PatternRow>(Collections.patterns);
  }

  /**
   * Brings the tenant's rows in line with `listed`. `written` maps pattern id → signature of the
   * stored row; undefined means "unknown" (first sync in this process): the tenant's stored ids
   * are then read once so that rows no longer listed are found.
   */
  async sync(
    tenantId: string,
    listed: MinedPattern[],
    views: TenantPatternViews,
    promoted: Map<string, string>,
    written: Map<string, string> | undefined,
  ): Promise<{ written: Map<string, string>; changed: number; removed: number; failed: number }> {
    let known = written;
    if (!known) {
      known = new Map();
      const stored = await this.rows.find({ tenantId }, { projection: { _id: 1, id: 1 } }).toArray();
      for (const r of stored) known.set(r.id, '');
    }
    const next = new Map<string, string>();
    const ops: AnyBulkWriteOperation<PatternRow>[] = [];
    const now = new Date();
    for (const p of listed) {
      const sig = signature(p, promoted.get(p.id));
      next.set(p.id, sig);
      if (known.get(p.id) === sig) continue;
      const row = toRow(tenantId, p, views, promoted.get(p.id) ?? null, now);
      ops.push({ replaceOne: { filter: { _id: row._id }, replacement: row, upsert: true } });
    }
    const changed = ops.length;
    let removed = 0;
    for (const id of known.keys()) {
      if (!next.has(id)) {
        ops.push({ deleteOne: { filter: { _id: `${tenantId}:${id}` } } });
        removed++;
      }
    }
    let failed = 0;
    // A command's worth at a time (MAX_WRITES_PER_COMMAND: larger write commands hang FerretDB v1).
    await inWriteChunks(ops, async (chunk, i) => {
      try {
        await this.rows.bulkWrite(chunk, { ordered: false });
      } catch (err) {
        // A row the database refuses (e.g. a NUL in a parameter on PostgreSQL) must not stop the
        // others; it is retried at the next run because its signature is not recorded.
        const writeErrors = (err as { writeErrors?: Array<{ index: number }> | { index: number } }).writeErrors;
        if (writeErrors === undefined) throw err;
        const list = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
        for (const e of list) {
          const op = ops[i + e.index];
          const id = 'replaceOne' in op ? (op.replaceOne.replacement as PatternRow).id : undefined;
          if (id !== undefined) next.delete(id);
          failed++;
        }
      }
    });
    return { written: next, changed, removed, failed };
  }

  async markPromoted(tenantId: string, patternId: string, workflowId: string): Promise<void> {
    await this.rows.updateOne({ _id: `${tenantId}:${patternId}` }, { $set: { promotedWorkflowId: workflowId, updatedAt: new Date() } });
  }
}

function signature(p: MinedPattern, promoted: string | undefined): string {
  const repeats = p.stepRepeats.map((r) => `${r.mean.toFixed(2)}/${r.max}`).join(',');
  return `${p.support}|${p.successRate}|${p.confidence}|${p.lastSeenAt}|${p.meanDurationMs}|${p.variantIds.length}|${repeats}|${promoted ?? ''}`;
}

function toRow(tenantId: string, p: MinedPattern, views: TenantPatternViews, promotedWorkflowId: string | null, now: Date): PatternRow {
  const inferred = views.inferred(p);
  return {
    _id: `${tenantId}:${p.id}`,
    tenantId,
    ...patternFigures(p),
    endedSessions: p.endedSessions,
    exampleSessionIds: p.exampleSessionIds,
    variantIds: p.variantIds,
    stepRepeats: p.stepRepeats,
    firstSeenAt: new Date(p.firstSeenAt),
    lastSeenAt: new Date(p.lastSeenAt),
    definition: inferred.definition as unknown as Record<string, unknown>,
    bindings: inferred.bindings.map((b) => ({ stepId: b.stepId, parameter: b.parameter, from: b.from })),
    parallelGroups: inferred.parallelGroups,
    promotedWorkflowId,
    updatedAt: now,
  };
}
