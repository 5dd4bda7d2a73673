import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Collection, Filter } from 'mongodb';
import { EXECUTIONS_COLLECTION, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type ExecutionView } from '@toolpath/contracts';
import type { WorkflowDefinition } from '@toolpath/workflow';

/** A row of `executions`: the client view plus what the executor needs to answer for it later. */
export interface ExecutionDocument extends Omit<ExecutionView, 'id'> {
  _id: string;
  tenantId: string;
  name: string;
  definition: WorkflowDefinition;
  depth: number;
  updatedAt: Date;
}

export interface ExecutionQuery {
  tenantId: string;
  workflowId?: string;
  status?: ExecutionStatus;
  limit: number;
  cursor?: string;
}

const TERMINAL = [...TERMINAL_EXECUTION_STATUSES];

/**
 * The durable record of runs. Writes are shaped as `_id` updates (the only filter FerretDB pushes
 * down cheaply) and stay off the per-step path: one insert, coalesced snapshots, one final write.
 */
@Injectable()
export class ExecutionRepository {
  private readonly log = new Logger(ExecutionRepository.name);

  constructor(@InjectConnection() private readonly connection: Connection) {}

  private get collection(): Collection<ExecutionDocument> {
    return this.connection.db!.collection<ExecutionDocument>(EXECUTIONS_COLLECTION);
  }

  /** Creates the row unless it exists (a retried start never overwrites progress). */
  async insert(doc: ExecutionDocument): Promise<void> {
    const { _id, ...rest } = doc;
    await this.collection.updateOne({ _id }, { $setOnInsert: rest }, { upsert: true });
  }

  /** Rewrites a running run's row; a no-op once the final write has landed. */
  async snapshot(doc: ExecutionDocument): Promise<void> {
    const { _id, ...rest } = doc;
    await this.collection.updateOne({ _id, status: { $nin: TERMINAL } } as Filter<ExecutionDocument>, { $set: rest });
  }

  async final(doc: ExecutionDocument): Promise<void> {
    const { _id, ...rest } = doc;
    await this.collection.updateOne({ _id }, { $set: rest }, { upsert: true });
  }

  async get(tenantId: string, id: string): Promise<ExecutionDocument | null> {
    const doc = await this.collection.findOne({ _id: id });
    return doc && doc.tenantId === tenantId ? doc : null;
  }

  /** Newest first; ids sort by creation time, so the cursor is the last id seen. */
  async list(q: ExecutionQuery): Promise<{ items: ExecutionDocument[]; nextCursor: string | null }> {
    const filter: Filter<ExecutionDocument> = { tenantId: q.tenantId };
    if (q.workflowId !== undefined) filter.workflowId = q.workflowId;
    if (q.status !== undefined) filter.status = q.status;
    if (q.cursor !== undefined) filter._id = { $lt: q.cursor };
    const items = await this.collection
      .find(filter, { projection: { definition: 0 } })
      .sort({ _id: -1 })
      .limit(q.limit + 1)
      .toArray();
    const more = items.length > q.limit;
    if (more) items.pop();
    return { items, nextCursor: more ? items[items.length - 1]._id : null };
  }

  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndex({ tenantId: 1, _id: -1 });
    } catch (err) {
      this.log.warn(`creating indexes failed: ${(err as Error).message}`);
    }
  }

  /** Tests: drop the database this service writes to. */
  async dropDatabase(): Promise<void> {
    await this.connection.db!.dropDatabase();
  }
}

export function toView(doc: ExecutionDocument): ExecutionView {
  const { _id, tenantId: _t, name: _n, definition: _d, depth: _dp, updatedAt: _u, ...view } = doc as ExecutionDocument & Record<string, unknown>;
  return { id: _id, ...view } as ExecutionView;
}
