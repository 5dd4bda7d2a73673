/**
 * Event load for the drills: small valid events published at a fixed rate straight on JetStream
 * (as a producer does), each with its `Nats-Msg-Id`, and what the store holds of them afterwards.
 */
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from 'nats';
import { RECORDER_CONSUMER, eventKey, eventsSubject } from '@toolpath/contracts';
import type { ChaosTarget } from './drill';

/** startedAt of event i is BASE + i ms: the store can then count "events before i" on an index. */
const BASE = 1_795_000_000_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function eventBody(tenantId: string, i: number): string {
  return `{"specVersion":"1","kind":"tool_call","eventId":"e${i}","tenantId":"${tenantId}","sessionId":"s${i % 500}","seq":${i},"tool":"t${i % 7}","success":true,"startedAt":${BASE + i},"durationMs":${i % 100}}`;
}

/** The event a drill's SDK producer sends as its i-th (same shape as eventBody). */
export function eventInput(i: number) {
  return { kind: 'tool_call' as const, eventId: `e${i}`, sessionId: `s${i % 500}`, seq: i, tool: `t${i % 7}`, success: true, startedAt: BASE + i, durationMs: i % 100 };
}

export interface RateLoad {
  /** Indexes of the events the stream acknowledged. */
  acked: Uint8Array;
  ackedCount(): number;
  /** Publishes that failed (not acknowledged); counted, never retried. */
  failed(): number;
  /** The lowest index not yet acknowledged: everything below it is acknowledged. */
  ackedPrefix(): number;
  done: Promise<void>;
}

/**
 * Publishes `count` events at `perSecond`, at most `window` awaiting their ack. A publish that
 * fails is counted and not retried: only acknowledged events must be stored.
 */
export function publishAtRate(nc: NatsConnection, target: ChaosTarget, tenantId: string, count: number, perSecond: number, deadline: number): RateLoad {
  const js = nc.jetstream({ timeout: 10_000 });
  const subject = eventsSubject(target.subjectPrefix, tenantId);
  const acked = new Uint8Array(count);
  let nAcked = 0;
  let nFailed = 0;
  let prefix = 0;
  const done = (async () => {
    const t0 = Date.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < count && Date.now() < deadline; i++) {
      const due = t0 + (i * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      const p: Promise<unknown> = js
        .publish(subject, Buffer.from(eventBody(tenantId, i)), { msgID: eventKey(tenantId, `e${i}`), timeout: 10_000 })
        .then(
          () => {
            acked[i] = 1;
            nAcked++;
          },
          () => nFailed++,
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 1024) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();
  return {
    acked,
    ackedCount: () => nAcked,
    failed: () => nFailed,
    ackedPrefix: () => {
      while (prefix < count && acked[prefix]) prefix++;
      return prefix;
    },
    done,
  };
}

/** Reads what the apps stored, on the target's database. */
export class StoreProbe {
  private constructor(private readonly client: MongoClient, private readonly target: ChaosTarget) {}

  static async open(target: ChaosTarget): Promise<StoreProbe> {
    const client = await MongoClient.connect(target.mongoUrl, { serverSelectionTimeoutMS: 5_000, socketTimeoutMS: 30_000 });
    return new StoreProbe(client, target);
  }

  private get db() {
    return this.client.db(this.target.database);
  }

  /** Rows of the tenant's events whose index is below `upTo` (null while the store is down). */
  async countBelow(tenantId: string, upTo: number): Promise<number | null> {
    return this.db
      .collection('tool_events')
      .countDocuments({ tenantId, startedAt: { $lt: new Date(BASE + upTo) } })
      .catch(() => null);
  }

  async count(tenantId: string): Promise<number | null> {
    return this.db
      .collection('tool_events')
      .countDocuments({ tenantId })
      .catch(() => null);
  }

  /** How many times each event index is stored (a row whose eventId is not e<i> counts as index -1). */
  async storedIndexes(tenantId: string): Promise<{ rows: number; perIndex: Map<number, number> }> {
    const rows = await this.db.collection<{ eventId: string }>('tool_events').find({ tenantId }, { projection: { eventId: 1 } }).batchSize(20_000).toArray();
    const perIndex = new Map<number, number>();
    for (const r of rows) {
      const i = /^e(\d+)$/.test(r.eventId) ? Number(r.eventId.slice(1)) : -1;
      perIndex.set(i, (perIndex.get(i) ?? 0) + 1);
    }
    return { rows: rows.length, perIndex };
  }

  async rejected(tenantId: string): Promise<number> {
    return this.db.collection('rejected_events').countDocuments({ tenantId });
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}

/** Lost = acknowledged and not stored; duplicated = rows beyond one per event, and rows of no event sent. */
export function tally(acked: Uint8Array, stored: { rows: number; perIndex: Map<number, number> }): { acked: number; stored: number; lost: number; duplicated: number } {
  let nAcked = 0;
  let lost = 0;
  for (let i = 0; i < acked.length; i++) {
    if (!acked[i]) continue;
    nAcked++;
    if (!stored.perIndex.has(i)) lost++;
  }
  let duplicated = 0;
  for (const [i, n] of stored.perIndex) duplicated += i < 0 || i >= acked.length ? n : n - 1;
  return { acked: nAcked, stored: stored.rows, lost, duplicated };
}

/** The recorder's durable consumer: drained once nothing is pending or awaiting an ack. */
export async function recorderConsumer(nc: NatsConnection, target: ChaosTarget): Promise<{ pending: number; ackPending: number } | null> {
  try {
    const jsm = await nc.jetstreamManager({ timeout: 5_000 });
    const info = await jsm.consumers.info(target.stream, RECORDER_CONSUMER);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  } catch {
    return null;
  }
}

export async function connectNats(target: ChaosTarget, name: string): Promise<NatsConnection> {
  return connect({ servers: target.natsUrl, name, timeout: 5_000, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

/** Polls until `probe` is truthy or `until` (epoch ms) passes; returns the last value. */
export async function pollUntil<T>(probe: () => Promise<T>, ok: (v: T) => boolean, until: number, intervalMs = 250): Promise<T> {
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() >= until) return v;
    await sleep(intervalMs);
  }
}
