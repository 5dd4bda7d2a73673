import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Collection, Filter } from 'mongodb';
import { EXECUTIONS_COLLECTION, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type ExecutionView } from '@toolpath/contracts';
import { inWriteChunks } from '@toolpath/platform';
import {
  RUN_LIST_FIELD_NAMES,
  RunListReader,
  assignRunListPositions,
  mongoSequenceAllocator,
  runListIndexesFor,
  type ExecutionDocument,
  type RunListPage,
  type RunListQuery,
} from '@toolpath/execution-store';

/** The row type lives with the reads other services make of `executions` (`@toolpath/execution-store`). */
export type { ExecutionDocument };

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
 * down cheaply) and stay off the per-step path: batched by ExecutionWriter, at most one snapshot a
 * second of a long run, and the final row once the run has ended (usually its only write).
 */
@Injectable()
export class ExecutionRepository {
  private readonly log = new Logger(ExecutionRepository.name);

  constructor(@InjectConnection() private readonly connection: Connection) {}

  private get collection(): Collection<ExecutionDocument> {
    return this.connection.db!.collection<ExecutionDocument>(EXECUTIONS_COLLECTION);
  }

  /**
   * Final rows, in one call: inserted (cheap on FerretDB), and replaced where a row exists already
   * (a run that was snapshotted, or a final write retried after a crash).
   */
  async writeFinals(docs: ExecutionDocument[]): Promise<void> {
    // Their places in the lists of all runs (one counter increment per list the batch touches).
    await assignRunListPositions(docs, mongoSequenceAllocator(this.connection.db!));
    let existing: ExecutionDocument[] = [];
    try {
      await this.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      const writeErrors = (err as { writeErrors?: Array<{ index: number; code?: number }> | { index: number; code?: number } }).writeErrors;
      const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
      existing = errors.map((e) => docs[e.index]);
    }
    // A command's worth at a time (MAX_WRITES_PER_COMMAND: larger update commands hang FerretDB v1).
    await inWriteChunks(existing, async (chunk) => {
      await this.collection.bulkWrite(
        chunk.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false },
      );
    });
  }

  /** Running runs' rows, in one call; a row whose final version has landed is left alone. */
  async writeSnapshots(docs: ExecutionDocument[]): Promise<void> {
    // A command's worth at a time (MAX_WRITES_PER_COMMAND: larger update commands hang FerretDB v1).
    await inWriteChunks(docs, async (chunk) => {
      try {
        await this.collection.bulkWrite(
          chunk.map(({ _id, ...rest }) => ({
            updateOne: { filter: { _id, status: { $nin: TERMINAL } } as Filter<ExecutionDocument>, update: { $set: rest }, upsert: true },
          })),
          { ordered: false },
        );
      } catch (err) {
        // A duplicate key means the final row is there (the filter missed it, the upsert collided).
        const writeErrors = (err as { writeErrors?: Array<{ code?: number }> | { code?: number } }).writeErrors;
        const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
        if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
      }
    });
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

  /** A page of a tenant's finished runs, most recently recorded first (libs/execution-store run-list.ts). */
  listRecorded(q: RunListQuery): Promise<RunListPage> {
    return new RunListReader(this.connection.db!).page(q);
  }

  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndex({ tenantId: 1, _id: -1 });
      const listIndexes = await runListIndexesFor(this.connection.db!);
      if (listIndexes.length > 0) await this.collection.createIndexes(listIndexes);
    } catch (err) {
      this.log.warn(`creating indexes failed: ${(err as Error).message}`);
    }
  }
}

export function toView(doc: ExecutionDocument): ExecutionView {
  const { _id, tenantId: _t, name: _n, definition: _d, depth: _dp, updatedAt: _u, ...view } = doc as ExecutionDocument & Record<string, unknown>;
  for (const field of RUN_LIST_FIELD_NAMES) delete view[field];
  return { id: _id, ...view } as ExecutionView;
}
