import type { Collection, Db } from 'mongodb';
import { EXECUTIONS_COLLECTION } from '@toolpath/contracts';
import type { ExecutionDocument } from './execution-row';
import type { RunTally } from './run-success';

/** Reads of `executions` for the services that do not own it (the executor is its single writer). */
export class ExecutionReader {
  private readonly rows: Collection<ExecutionDocument>;

  constructor(db: Db) {
    this.rows = db.collection<ExecutionDocument>(EXECUTIONS_COLLECTION);
  }

  /**
   * Finished runs per workflow of a tenant (workflows without one are absent): one `$group` per
   * status, since FerretDB v1 computes only a group's first accumulator correctly.
   */
  async finishedRunsByWorkflow(tenantId: string): Promise<Map<string, RunTally>> {
    const out = new Map<string, RunTally>();
    const count = async (status: 'COMPLETED' | 'FAILED') => {
      const rows = await this.rows
        .aggregate<{ _id: unknown; n: number }>([{ $match: { tenantId, status } }, { $group: { _id: '$workflowId', n: { $sum: 1 } } }])
        .toArray();
      for (const r of rows) {
        if (typeof r._id !== 'string') continue;
        const t = out.get(r._id) ?? { completed: 0, failed: 0 };
        if (status === 'COMPLETED') t.completed += r.n;
        else t.failed += r.n;
        out.set(r._id, t);
      }
    };
    await Promise.all([count('COMPLETED'), count('FAILED')]);
    return out;
  }
}
