import { BSON, MongoBulkWriteError, MongoServerError, type Collection, type Db, type WriteError } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { REJECTED_EVENT_INDEXES, toolEventIndexesFor, type SecondaryIndexPolicy } from './indexes';
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

  constructor(private readonly db: Db) {
    this.events = db.collection<StoredToolEvent>(Collections.toolEvents);
    this.rejected = db.collection<RejectedEvent>(Collections.rejectedEvents);
  }

  /**
   * One index per command: FerretDB v1 panics (and drops the connection, which makes the driver
   * clear its whole pool) on a createIndexes listing several indexes that all exist already, i.e.
   * on every start but the first.
   */
  async ensureIndexes(policy: SecondaryIndexPolicy = 'auto'): Promise<void> {
    for (const index of await toolEventIndexesFor(this.db, policy)) await this.events.createIndexes([index]);
    for (const index of REJECTED_EVENT_INDEXES) await this.rejected.createIndexes([index]);
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
      // A whole batch can be refused for one row's content: the driver cannot encode a key
      // holding "\0", and PostgreSQL (under FerretDB) refuses "\0" anywhere in a string. Split
      // the batch until that row is alone and refused, instead of retrying it forever. A refusal
      // only counts as one when the server still answers a ping; otherwise it is an outage.
      if (BSON.BSONError.isBSONError(err)) return this.insertHalves(rows, err as Error);
      if (!accountsForEveryRow(err, rows.length) && (await this.serverAnswers())) return this.insertHalves(rows, err as Error);
      const writeErrors = perRowErrors(err, rows.length);
      let duplicates = 0;
      const refused: InsertOutcome['refused'] = [];
      for (const we of writeErrors) {
        if (we.code === DUPLICATE_KEY) duplicates++;
        else refused.push({ index: we.index, code: we.code, message: we.errmsg ?? 'refused by the database' });
      }
      return { inserted: (err as MongoBulkWriteError).insertedCount, duplicates, refused };
    }
  }

  private async insertHalves(rows: StoredToolEvent[], err: Error): Promise<InsertOutcome> {
    if (rows.length === 1) return { inserted: 0, duplicates: 0, refused: [{ index: 0, code: err.name, message: err.message }] };
    const mid = rows.length >> 1;
    const left = await this.insertEvents(rows.slice(0, mid));
    const right = await this.insertEvents(rows.slice(mid));
    return {
      inserted: left.inserted + right.inserted,
      duplicates: left.duplicates + right.duplicates,
      refused: [...left.refused, ...right.refused.map((r) => ({ ...r, index: r.index + mid }))],
    };
  }

  /**
   * Idempotent: a dead letter that is delivered again keeps its first row. If the server refuses
   * a dead letter for its content, it is stored again reduced to its reason and raw bytes (which
   * any server can hold), so one odd message can never stall the stream.
   */
  async insertRejected(rows: RejectedEvent[]): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      const res = await this.rejected.insertMany(rows, { ordered: false });
      return res.insertedCount;
    } catch (err) {
      if (accountsForEveryRow(err, rows.length)) {
        const writeErrors = perRowErrors(err, rows.length);
        if (writeErrors.every((we) => we.code === DUPLICATE_KEY)) return (err as MongoBulkWriteError).insertedCount;
      } else if (!BSON.BSONError.isBSONError(err) && !(await this.serverAnswers())) {
        throw err;
      }
      let inserted = 0;
      for (const row of rows) inserted += await this.insertOneRejected(row);
      return inserted;
    }
  }

  private async insertOneRejected(row: RejectedEvent): Promise<number> {
    for (const candidate of [row, reducedDeadLetter(row)]) {
      try {
        await this.rejected.insertOne(candidate);
        return 1;
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return 0;
        if (!BSON.BSONError.isBSONError(err) && !(await this.serverAnswers())) throw err;
      }
    }
    throw new Error(`rejected_events refused dead letter ${row._id} even reduced to its raw bytes`);
  }

  private async serverAnswers(): Promise<boolean> {
    try {
      await this.db.command({ ping: 1 }, { timeoutMS: 2000 });
      return true;
    } catch {
      return false;
    }
  }
}

/** A dead letter with nothing but what any server stores: the reason and the bytes as received. */
function reducedDeadLetter(row: RejectedEvent): RejectedEvent {
  return {
    _id: row._id,
    tenantId: row.tenantId,
    subject: row.subject,
    reason: row.reason,
    field: null,
    message: 'stored reduced: the database refused the full dead letter',
    issues: [],
    eventId: null,
    raw: row.raw,
    receivedAt: row.receivedAt,
    streamSeq: row.streamSeq,
  };
}

/** Whether an insertMany error says what happened to each row (inserted, duplicate, refused). */
function accountsForEveryRow(err: unknown, rowCount: number): boolean {
  if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) return false;
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return writeErrors.length > 0 && err.insertedCount + writeErrors.length === rowCount;
}

/**
 * The per-row errors of an unordered insertMany that reached every row; rethrows anything else.
 * The driver also reports a lost connection or an unreachable server as a MongoBulkWriteError,
 * with no write errors and nothing inserted: reading that as "every row inserted" acknowledged
 * batches that were never stored. Only an error accounting for each row (inserted or refused)
 * says what happened to each.
 */
function perRowErrors(err: unknown, rowCount: number): WriteError[] {
  if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) throw err;
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  if (writeErrors.length === 0 || err.insertedCount + writeErrors.length !== rowCount) throw err;
  return writeErrors;
}
