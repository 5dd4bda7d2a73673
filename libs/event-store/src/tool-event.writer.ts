import { MongoBulkWriteError, type Collection, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { REJECTED_EVENT_INDEXES, TOOL_EVENT_INDEXES } from './indexes';
import type { RejectedEvent, StoredToolEvent } from './stored-event';

const DUPLICATE_KEY = 11000;

export interface InsertOutcome {
  inserted: number;
  /** Rows whose key was already stored (a redelivery or a producer retry). */
  duplicates: number;
  /** Rows the server refused for their content; the caller dead-letters them. */
  refused: Array<{ index: number; code: number | string | undefined; message: string }>;
}

/**
 * The single writer of `tool_events` and `rejected_events` (the recorder). Writes go through the
 * driver's collection, not a mongoose model: the rows are already validated against the contract,
 * and per-document casting would cost more than the insert itself at ingest rates.
 */
export class ToolEventWriter {
  private readonly events: Collection<StoredToolEvent>;
  private readonly rejected: Collection<RejectedEvent>;

  constructor(db: Db) {
    this.events = db.collection<StoredToolEvent>(Collections.toolEvents);
    this.rejected = db.collection<RejectedEvent>(Collections.rejectedEvents);
  }

  async ensureIndexes(): Promise<void> {
    await this.events.createIndexes(TOOL_EVENT_INDEXES);
    await this.rejected.createIndexes(REJECTED_EVENT_INDEXES);
  }

  /**
   * Unordered insert: one bad or duplicate row does not hold back the others. Throws only for
   * failures of the whole call (server away, timeout), which the caller retries.
   */
  async insertEvents(rows: StoredToolEvent[]): Promise<InsertOutcome> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0, refused: [] };
    try {
      const res = await this.events.insertMany(rows, { ordered: false });
      return { inserted: res.insertedCount, duplicates: 0, refused: [] };
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) throw err;
      const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      let duplicates = 0;
      const refused: InsertOutcome['refused'] = [];
      for (const we of writeErrors) {
        if (we.code === DUPLICATE_KEY) duplicates++;
        else refused.push({ index: we.index, code: we.code, message: we.errmsg ?? 'refused by the database' });
      }
      const inserted = rows.length - duplicates - refused.length;
      return { inserted, duplicates, refused };
    }
  }

  /** Idempotent: a dead letter that is delivered again keeps its first row. */
  async insertRejected(rows: RejectedEvent[]): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      const res = await this.rejected.insertMany(rows, { ordered: false });
      return res.insertedCount;
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) throw err;
      const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      const other = writeErrors.find((we) => we.code !== DUPLICATE_KEY);
      if (other) throw new Error(`rejected_events refused a row: ${other.errmsg}`);
      return rows.length - writeErrors.length;
    }
  }
}
