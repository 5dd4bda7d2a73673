import { Collections } from '@toolpath/contracts';
import { MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError, type Db } from 'mongodb';

/** How long the probe may take before the store counts as away. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * Whether a failed write or read is the store being away (a whole-store outage, retried for as
 * long as it lasts) rather than a failure of the documents at hand (retried a bounded number of
 * times, then dead-lettered by the consumer).
 *
 * A connection-level error (network, server selection, closed topology) is an outage outright.
 * Anything else is judged by a probe made right after it: a ping AND a one-row read of
 * `rejected_events`. The read matters on FerretDB, which can answer a ping from its own process
 * while the PostgreSQL behind it is down; a read has to reach PostgreSQL. Only when both answer
 * is the failure put down to the documents; a store that comes back between the failure and the
 * probe at worst costs one of the bounded tries, never a dead letter on its own.
 */
export async function isStoreOutage(err: unknown, db: Db): Promise<boolean> {
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError
  ) {
    return true;
  }
  return !(await storeAnswers(db));
}

/** Ping and a one-row read, each bounded: true when the store serves requests now. */
export async function storeAnswers(db: Db): Promise<boolean> {
  try {
    await db.command({ ping: 1 }, { timeoutMS: PROBE_TIMEOUT_MS });
    await db.collection(Collections.rejectedEvents).findOne({}, { projection: { _id: 1 }, timeoutMS: PROBE_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}
