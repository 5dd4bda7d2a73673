import { MongoClient, type Db } from 'mongodb';
import { headers as natsHeaders, type JetStreamClient, type NatsConnection, type PubAck } from 'nats';
import { RECORDER_CONSUMER, eventKey, eventsSubject } from '@toolpath/contracts';
import {
  connectTestNats,
  createTestEventsStream,
  deleteTestStream,
  isolatedEnv,
  privateFerretDb,
  startService,
  testNames,
  testUrls,
  type FerretDbProcess,
  type ServiceProcess,
  type TestNames,
} from '@toolpath/testing';

/** Recorders still running; killed if the test process exits without its afterAll (a crash, ^C). */
const liveChildren = new Set<ServiceProcess>();
process.once('exit', () => {
  for (const rec of liveChildren) rec.proc.kill('SIGKILL');
});

/**
 * One test's world: its own stream, subject prefix and database, and every recorder and private
 * database it starts, all torn down by `close()` whatever state the test left them in.
 */
export class RecorderHarness {
  readonly recorders: ServiceProcess[] = [];
  readonly names: TestNames;
  nc?: NatsConnection;
  mongo?: MongoClient;
  /** The test's own FerretDB, when it asked for one (to stop and start it). */
  privateDb?: FerretDbProcess;

  private constructor(label: string) {
    this.names = testNames(label);
  }

  /** Everything is created inside the try: a failure half-way still leaves nothing behind. */
  static async open(label: string, opts: { privateDb?: boolean } = {}): Promise<RecorderHarness> {
    const h = new RecorderHarness(label);
    try {
      if (opts.privateDb) {
        const db = await privateFerretDb();
        h.privateDb = db;
        await db.start();
      }
      h.nc = await connectTestNats();
      h.mongo = await MongoClient.connect(h.mongoUrl, { serverSelectionTimeoutMS: 5000 });
      await createTestEventsStream(h.nc, h.names);
    } catch (err) {
      await h.close();
      throw err;
    }
    return h;
  }

  get mongoUrl(): string {
    return this.privateDb?.url ?? testUrls.mongo;
  }

  get db(): Db {
    return this.mongo!.db(this.names.mongoDb);
  }

  get js(): JetStreamClient {
    return this.nc!.jetstream({ timeout: 10_000 });
  }

  subject(tenantId: string): string {
    return eventsSubject(this.names.subjectPrefix, tenantId);
  }

  /** Starts a recorder on this test's names; it is stopped by `close()` if the test does not. */
  async startRecorder(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const rec = await startService('recorder', { ...isolatedEnv(this.names), MONGO_URL: this.mongoUrl, RECORDER_BATCH_WINDOW_MS: '20', ...env });
    this.recorders.push(rec);
    liveChildren.add(rec);
    rec.proc.once('exit', () => liveChildren.delete(rec));
    return rec;
  }

  /** Publishes raw bytes with an explicit `Nats-Msg-Id`, as a producer that bypasses the SDK would. */
  publishRaw(tenantId: string, data: string | Uint8Array, msgId: string): Promise<PubAck> {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', msgId);
    return this.js.publish(this.subject(tenantId), typeof data === 'string' ? Buffer.from(data) : data, { headers: h, timeout: 10_000 });
  }

  /**
   * Publishes `count` small valid events (`eventId` = `e<i>`) with at most `window` publishes
   * awaiting their ack, which is what keeps 100 000 publishes to seconds.
   */
  async publishSmallEvents(tenantId: string, count: number, window = 512): Promise<void> {
    const js = this.js;
    const subject = this.subject(tenantId);
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < count; i++) {
      const eventId = `e${i}`;
      const body = `{"specVersion":"1","kind":"tool_call","eventId":"${eventId}","tenantId":"${tenantId}","sessionId":"s${i % 500}","seq":${i},"tool":"t${i % 7}","success":true,"startedAt":${1_795_000_000_000 + i},"durationMs":${i % 100}}`;
      const p: Promise<unknown> = js
        .publish(subject, Buffer.from(body), { msgID: eventKey(tenantId, eventId), timeout: 10_000 })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  async consumerState(): Promise<{ pending: number; ackPending: number; redelivered: number; ackFloor: number }> {
    const jsm = await this.nc!.jetstreamManager();
    const info = await jsm.consumers.info(this.names.stream, RECORDER_CONSUMER);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered, ackFloor: info.ack_floor.stream_seq };
  }

  /** True once every message in the stream has been acknowledged, i.e. is durable in the store. */
  async allAcknowledged(): Promise<boolean> {
    const s = await this.consumerState();
    return s.pending === 0 && s.ackPending === 0;
  }

  /**
   * Rows in tool_events as the server counts them. `$collStats` answers from the table (0.1 s for
   * 100 000 rows on FerretDB/SQLite) where `countDocuments` decodes every row (over 10 s).
   */
  async rowCount(): Promise<number> {
    const [stats] = await this.db.collection('tool_events').aggregate<{ count: number }>([{ $collStats: { count: {} } }]).toArray();
    return stats?.count ?? 0;
  }

  /** Every `_id` of tool_events, read in large pages (FerretDB's SQLite backend scans anyway). */
  async storedIds(): Promise<string[]> {
    const rows = await this.db.collection<{ _id: string }>('tool_events').find({}, { projection: { _id: 1 } }).batchSize(20_000).toArray();
    return rows.map((r) => r._id);
  }

  /** What a failed assertion should show: the dead letters by reason, the consumer, each recorder's last output. */
  async diagnostics(): Promise<string> {
    const rejected = await this.db
      .collection('rejected_events')
      .aggregate([{ $group: { _id: '$reason', n: { $sum: 1 } } }])
      .toArray()
      .catch((err: Error) => err.message);
    const consumer = await this.consumerState().catch((err: Error) => err.message);
    const outputs = this.recorders.map((r, i) => `--- recorder ${i} (pid ${r.proc.pid}) ---\n${r.output().slice(-3000)}`);
    return [`rejected: ${JSON.stringify(rejected)}`, `consumer: ${JSON.stringify(consumer)}`, ...outputs].join('\n');
  }

  async close(): Promise<void> {
    if (process.env.RECORDER_TEST_LOG_DIR) {
      const { mkdirSync, writeFileSync } = await import('node:fs');
      mkdirSync(process.env.RECORDER_TEST_LOG_DIR, { recursive: true });
      this.recorders.forEach((r, i) => writeFileSync(`${process.env.RECORDER_TEST_LOG_DIR}/${this.names.mongoDb}-${i}.log`, r.output()));
    }
    // Processes first, so nothing re-creates a consumer on a stream being deleted.
    await Promise.allSettled(this.recorders.map((r) => r.kill9()));
    if (this.nc) {
      await deleteTestStream(this.nc, this.names).catch(() => undefined);
      await this.nc.close().catch(() => undefined);
    }
    if (this.mongo) {
      await this.mongo.db(this.names.mongoDb).dropDatabase().catch(() => undefined);
      await this.mongo.close().catch(() => undefined);
    }
    await this.privateDb?.dispose().catch(() => undefined);
  }
}

/** Parses a Prometheus text page into `name{labels}` → value (labels as printed). */
export async function scrapeMetrics(service: ServiceProcess): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${service.port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

export const RecorderMetricNames = {
  stored: 'toolpath_recorder_events_stored_total',
  duplicates: 'toolpath_recorder_events_duplicate_total',
  retries: 'toolpath_recorder_write_retries_total',
  rejected: (reason: string) => `toolpath_recorder_events_rejected_total{reason="${reason}"}`,
} as const;

export async function healthStatus(service: ServiceProcess): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${service.port}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
