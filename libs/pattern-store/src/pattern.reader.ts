import type { Collection, Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import type { PatternRow } from './pattern-row';

/** Patterns read per tenant at most for the rates of promoted workflows. */
const MAX_PROMOTED_READ = 10_000;

/** Reads of `patterns` for the services that do not own it (the analyzer is its single writer). */
export class PatternReader {
  private readonly rows: Collection<PatternRow>;

  constructor(db: Db) {
    this.rows = db.collection<PatternRow>(Collections.patterns);
  }

  /**
   * The learned success rate of each catalog workflow promoted from a pattern, by workflow id:
   * what a workflow is known by before its first finished run. Rows are read leniently.
   */
  async promotedSuccessRates(tenantId: string): Promise<Map<string, number>> {
    const rows = await this.rows
      .find({ tenantId }, { projection: { promotedWorkflowId: 1, successRate: 1 } })
      .limit(MAX_PROMOTED_READ)
      .toArray();
    const out = new Map<string, number>();
    for (const r of rows) {
      if (typeof r.promotedWorkflowId === 'string' && typeof r.successRate === 'number' && Number.isFinite(r.successRate)) out.set(r.promotedWorkflowId, r.successRate);
    }
    return out;
  }
}
