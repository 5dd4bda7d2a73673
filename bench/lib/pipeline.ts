import { MongoClient, type Collection, type Db } from 'mongodb';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { Collections, analyzerSubjects, type ExecutorReply } from '@toolpath/contracts';
import { toolEventIndexesFor, type StoredToolEvent } from '@toolpath/event-store';
import { EventPublisher } from '@toolpath/sdk';
import { isolatedEnv, startService, testNames, testUrls, type ServiceProcess, type TestNames } from '@toolpath/testing';
import { BENCH_TENANT, benchEventInput, encodeBenchEvent, storedRow } from './events';
import { ferretDbPostgresPid, findServerPid, machineInfo, treeCpuSeconds, type CpuSource, type MachineInfo } from './machine';

/** Only local servers: a bench must never send its load anywhere else. */
export function assertLocal(): void {
  for (const [name, url] of Object.entries(testUrls)) {
    const hosts = url.replace(/^[a-z]+:\/\//, '').split('/')[0].split(',');
    for (const h of hosts) {
      const host = h.replace(/^.*@/, '').replace(/:\d+$/, '');
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`${name} URL ${url} is not on 127.0.0.1; benches only load local servers`);
    }
  }
}

export interface Infra {
  nc: NatsConnection;
  mongo: MongoClient;
}

export async function connectInfra(): Promise<Infra> {
  assertLocal();
  const nc = await connect({ servers: testUrls.nats, name: 'toolpath-bench', timeout: 5000, noAsyncTraces: true });
  const mongo = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000, maxPoolSize: 32 });
  return { nc, mongo };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Progress on stderr, so stdout stays the result. */
export function progress(text: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

/**
 * Undo list of a run: streams, databases and processes it created, removed in reverse order on
 * success, failure, the time limit, or Ctrl-C.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; run: () => Promise<unknown> }> = [];
  private running?: Promise<void>;

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        // Twice: a server that restarted during the run answers the second attempt.
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            await Promise.race([step.run(), sleep(30_000).then(() => Promise.reject(new Error('timed out')))]);
            break;
          } catch (err) {
            progress(`cleanup: ${step.what} failed${attempt === 1 ? ', retrying' : ''}: ${(err as Error).message}`);
            if (attempt === 1) await sleep(3000);
          }
        }
      }
    })();
    return this.running;
  }

  /** Runs the cleanup on SIGINT/SIGTERM and after `limitMs`, then exits with an error. */
  guard(limitMs: number, bench: string): void {
    const abort = (why: string, code: number) => {
      progress(`${bench}: ${why}; cleaning up`);
      void this.run().finally(() => process.exit(code));
    };
    process.once('SIGINT', () => abort('interrupted', 130));
    process.once('SIGTERM', () => abort('terminated', 143));
    setTimeout(() => abort(`time limit of ${Math.round(limitMs / 1000)} s reached`, 3), limitMs).unref();
  }
}

/** Fresh names (stream, subject prefix, database) for one phase, removed by `cleanup`. */
export function phaseNames(label: string, infra: Infra, cleanup: Cleanup): TestNames {
  const names = testNames(label);
  cleanup.add(`delete stream ${names.stream}`, async () => {
    const jsm = await infra.nc.jetstreamManager();
    await jsm.streams.delete(names.stream).catch((err: Error) => {
      if (!/not found/i.test(err.message)) throw err;
    });
  });
  cleanup.add(`drop database ${names.mongoDb}`, () => infra.mongo.db(names.mongoDb).dropDatabase());
  return names;
}

/** The collection as the recorder has it: same name, same indexes. */
export async function preparedEventsCollection(db: Db) {
  const col = db.collection<StoredToolEvent>(Collections.toolEvents);
  // The indexes the recorder creates on this server, one per call (see ToolEventWriter).
  for (const index of await toolEventIndexesFor(db)) await col.createIndexes([index]);
  return col;
}

/**
 * Row count from the `collStats` command: cheap everywhere, exact on FerretDB/SQLite (it counts
 * SQLite's rows without decoding them) and MongoDB, an estimate on FerretDB/PostgreSQL once a
 * table is large (PostgreSQL's statistics: 200,018 for 200,000 rows here). FerretDB's `$collStats`
 * stage is no help (stale: -1, or a count from minutes before) and `countDocuments` reads and
 * decodes every row on both backends (0.2-0.3 ms a row here: minutes for a million), so the
 * benches take exactness from the servers' write acknowledgements and use this as a cross-check
 * (`expectRows`); `--verify-count` adds the exact, slow count.
 */
export async function statsRowCount(db: Db): Promise<number> {
  try {
    const stats = (await db.command({ collStats: Collections.toolEvents })) as { count?: number };
    return stats.count ?? 0;
  } catch (err) {
    if ((err as { codeName?: string }).codeName === 'NamespaceNotFound' || /not found|does not exist/i.test((err as Error).message)) return 0;
    throw err;
  }
}

/** Tolerance of the statistics-based count (PostgreSQL's estimate). */
const STATS_TOLERANCE = 0.001;

/**
 * Checks that the database holds `n` rows: by `collStats` within 0.1% (waiting up to the
 * deadline while it is short), and, when `exact`, by `countDocuments`. Throws when it does not;
 * returns what it found, for the report.
 */
export async function expectRows(db: Db, n: number, opts: { deadline: number; exact: boolean; label: string }): Promise<string> {
  let stats = 0;
  for (;;) {
    stats = await statsRowCount(db);
    if (Math.abs(stats - n) <= n * STATS_TOLERANCE || performance.now() > opts.deadline) break;
    if (stats > n) break;
    await sleep(500);
  }
  if (Math.abs(stats - n) > n * STATS_TOLERANCE) throw new Error(`${opts.label}: the database reports ${stats} rows (collStats), expected ${n}`);
  if (!opts.exact) return `collStats: ${stats} rows`;
  const t0 = performance.now();
  const exact = await db.collection(Collections.toolEvents).countDocuments({});
  if (exact !== n) throw new Error(`${opts.label}: the database holds ${exact} rows (countDocuments), expected ${n}`);
  return `collStats: ${stats} rows; countDocuments: ${exact} rows (took ${((performance.now() - t0) / 1000).toFixed(1)} s)`;
}

/**
 * The baseline writer: unordered insertMany of the rows the recorder would store for events
 * from..to-1, in batches of `batchSize` with `concurrency` writes at a time (the recorder's
 * RECORDER_WRITE_CONCURRENCY), so that it measures what the database can take with the same
 * overlap the recorder uses. Each writer builds its next batch before sending it; building costs
 * a few ms per 1,000 rows against hundreds for the write. `col` must have the recorder's indexes
 * (`preparedEventsCollection`). Returns the seconds taken.
 */
export async function rawInsertMany(
  col: Collection<StoredToolEvent>,
  names: TestNames,
  range: { from: number; to: number },
  opts: { batchSize: number; concurrency: number; deadline: number; onProgress?: (written: number, seconds: number) => void },
): Promise<number> {
  const { from, to } = range;
  const build = (start: number): StoredToolEvent[] => {
    const rows: StoredToolEvent[] = [];
    const receivedAt = new Date();
    for (let i = start; i < Math.min(to, start + opts.batchSize); i++) rows.push(storedRow(encodeBenchEvent(i, names.token, names.subjectPrefix).data, i + 1, receivedAt));
    return rows;
  };
  const t0 = performance.now();
  let lastReport = t0;
  let nextStart = from;
  let written = 0;
  const writer = async () => {
    while (nextStart < to) {
      const start = nextStart;
      nextStart += opts.batchSize;
      const rows = build(start);
      const res = await col.insertMany(rows, { ordered: false });
      if (res.insertedCount !== rows.length) throw new Error(`insertMany acknowledged ${res.insertedCount} of ${rows.length} rows`);
      written += rows.length;
      const now = performance.now();
      if (now > opts.deadline) throw new Error('raw insertMany did not finish in time');
      if (opts.onProgress && now - lastReport > 5000) {
        opts.onProgress(written, (now - t0) / 1000);
        lastReport = now;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, writer));
  return (performance.now() - t0) / 1000;
}

/** The port of a server URL such as mongodb://127.0.0.1:27017/x. */
export function portOf(url: string): string {
  return /:(\d+)(\/|,|$)/.exec(url.replace(/^[a-z+]+:\/\//, ''))?.[1] ?? '';
}

/** The machine and server versions, for the report. */
export function describeInfra(infra: Infra): Promise<MachineInfo> {
  return machineInfo(infra.nc, infra.mongo.db('admin'), portOf(testUrls.mongo));
}

/**
 * CPU sources of the local servers, for CpuShare: FerretDB (or mongod), its PostgreSQL cluster
 * when it has one (postmaster and backends), and nats-server. Missing ones are left out.
 */
export function serverPids(): Record<string, CpuSource> {
  const mongoPort = portOf(testUrls.mongo);
  const postmaster = ferretDbPostgresPid(mongoPort);
  return {
    ferretdbOrMongod: findServerPid('ferretdb', mongoPort) ?? findServerPid('mongod', mongoPort),
    ...(postmaster !== undefined ? { postgres: () => treeCpuSeconds(postmaster) } : {}),
    natsServer: findServerPid('nats-server', portOf(testUrls.nats)),
  };
}

/**
 * Waits until the recorder has created the `tool_events` indexes (it does so in the background
 * at start), as it has long before real traffic arrives.
 */
export async function waitForRecorderIndexes(db: Db, deadline: number): Promise<void> {
  const col = db.collection(Collections.toolEvents);
  const wanted = (await toolEventIndexesFor(db)).length;
  if (wanted === 0) return;
  for (;;) {
    const have = await col.listIndexes().toArray().catch(() => []);
    if (have.length >= wanted + 1 || performance.now() > deadline) return;
    await sleep(100);
  }
}

// ------------------------------------------------------------------------------------------------
// The recorder, as a real process

/**
 * Bytes the stream a recorder creates may hold. Tests cap their streams at 256 MiB and the
 * default is 1 GiB, with discard-old: a benchmark's backlog (a million events are about 700 MB)
 * must fit, or the stream drops events the recorder has not read yet.
 */
const BENCH_STREAM_MAX_BYTES = 8 * 1024 ** 3;

export async function startRecorder(names: TestNames, settings: Record<string, string>, cleanup: Cleanup): Promise<ServiceProcess> {
  const recorder = await startService('recorder', {
    ...isolatedEnv(names),
    LOG_LEVEL: 'warn',
    TOOLPATH_EVENTS_MAX_BYTES: String(BENCH_STREAM_MAX_BYTES),
    ...settings,
  });
  cleanup.add('stop recorder', () => recorder.stop());
  return recorder;
}

/** The recorder's /metrics as `name{labels}` → value. */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export const STORED_METRIC = 'toolpath_recorder_events_stored_total';

/**
 * Quantiles of a Prometheus histogram, interpolated linearly inside buckets (as PromQL's
 * histogram_quantile does): only as precise as the bucket bounds.
 */
export function histogramQuantiles(metrics: Map<string, number>, name: string, qs: number[]): { count: number; sum: number; quantiles: number[] } {
  const buckets: Array<[number, number]> = [];
  for (const [key, v] of metrics) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\}$`).exec(key);
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), v]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const count = metrics.get(`${name}_count`) ?? 0;
  const sum = metrics.get(`${name}_sum`) ?? 0;
  const quantiles = qs.map((q) => {
    const rank = q * count;
    let prevBound = 0;
    let prevCount = 0;
    for (const [bound, c] of buckets) {
      if (c >= rank) {
        if (bound === Infinity) return prevBound;
        return prevBound + (bound - prevBound) * ((rank - prevCount) / Math.max(1, c - prevCount));
      }
      prevBound = bound;
      prevCount = c;
    }
    return NaN;
  });
  return { count, sum, quantiles };
}

/** Mean batch size and write time the recorder reported, from its histograms. */
export function recorderBatchStats(m: Map<string, number>): { batches: number; meanBatch: number; meanWriteMs: number } {
  const batches = m.get('toolpath_recorder_batch_size_count') ?? 0;
  return {
    batches,
    meanBatch: batches ? Math.round((m.get('toolpath_recorder_batch_size_sum') ?? 0) / batches) : 0,
    meanWriteMs: batches ? Math.round(((m.get('toolpath_recorder_write_seconds_sum') ?? 0) / batches) * 1000) : 0,
  };
}

// ------------------------------------------------------------------------------------------------
// Publishing and waiting

export interface PublishRun {
  publisher: EventPublisher;
  /** performance.now() just before the first publish() */
  firstPublishAt: number;
  /** Resolves when every event is acked by the stream, with the time it happened. */
  done: Promise<number>;
  /** Set once `done` has settled. */
  finished: boolean;
}

/** An SDK publisher with default settings for the bench tenant under the phase's prefix. */
export function benchPublisher(names: TestNames): EventPublisher {
  return EventPublisher.connect({ servers: testUrls.nats, tenantId: BENCH_TENANT, subjectPrefix: names.subjectPrefix, name: 'toolpath-bench-publisher' });
}

/**
 * Publishes bench events from..to-1 with the SDK as fast as the publisher's buffer allows (it
 * never drops: when the buffer is nearly full the loop waits for acks to drain it).
 */
export function publishRange(
  publisher: EventPublisher,
  names: TestNames,
  range: { from: number; to: number },
  deadline: number,
  onProgress?: (sent: number) => void,
): PublishRun {
  const run = { publisher, firstPublishAt: 0, finished: false } as PublishRun;
  run.done = (async () => {
    await publisher.ready(10_000);
    const ackedBefore = publisher.stats().published;
    const highWater = 8_000; // of the default 10,000-event buffer
    run.firstPublishAt = performance.now();
    for (let i = range.from; i < range.to; i++) {
      publisher.publish(benchEventInput(i, names.token));
      if ((i & 255) === 255) {
        while (publisher.stats().pending >= highWater) {
          if (performance.now() > deadline) throw new Error('publishing did not finish in time');
          await sleep(1);
        }
        if ((i & 16383) === 16383) onProgress?.(i + 1 - range.from);
      }
    }
    await publisher.flush(Math.max(1000, deadline - performance.now()));
    const at = performance.now();
    const s = publisher.stats();
    if (s.published - ackedBefore !== range.to - range.from) throw new Error(`publisher acked ${s.published - ackedBefore} of ${range.to - range.from} events: ${JSON.stringify(s)}`);
    return at;
  })().finally(() => (run.finished = true));
  return run;
}

/** `publishRange` of events 0..n-1 on a new publisher. */
export function publishAll(names: TestNames, n: number, deadline: number, onProgress?: (sent: number) => void): PublishRun {
  return publishRange(benchPublisher(names), names, { from: 0, to: n }, deadline, onProgress);
}

/**
 * Polls the recorder's durable counter (`toolpath_recorder_events_stored_total`: rows the
 * database acknowledged, counted when an insertMany has returned) until it reaches `n`; returns
 * the time it was first seen there. Duplicates or dead letters, which would make the count
 * ambiguous, fail the run.
 */
export async function waitStored(
  recorder: ServiceProcess,
  n: number,
  opts: {
    deadline: number;
    intervalMs?: number;
    label: string;
    startedAt: number;
    /** count at startedAt, for the rate shown */
    from?: number;
    /** whether events are still being published (an idle recorder is then only waiting) */
    publishing?: () => boolean;
  },
): Promise<number> {
  let lastReport = performance.now();
  let lastStored = -1;
  let lastChange = performance.now();
  for (;;) {
    if (recorder.proc.exitCode !== null) throw new Error(`recorder exited (${recorder.proc.exitCode}):\n${recorder.output().slice(-2000)}`);
    const metrics = await scrapeMetrics(recorder.port);
    const stored = metrics.get(STORED_METRIC) ?? 0;
    const now = performance.now();
    if (stored !== lastStored) {
      lastStored = stored;
      lastChange = now;
    }
    // Nothing stored for 30 s and nothing left for the recorder in the stream: events are missing.
    const idle = (metrics.get('toolpath_recorder_consumer_pending') ?? 1) + (metrics.get('toolpath_recorder_consumer_ack_pending') ?? 1) === 0;
    if (stored < n && idle && now - lastChange > 30_000 && !opts.publishing?.()) {
      throw new Error(`${opts.label}: the recorder is idle with ${stored} of ${n} events stored and none left in the stream (did its limits discard some?)`);
    }
    const odd = [...metrics].filter(([k, v]) => v > 0 && (k.startsWith('toolpath_recorder_events_duplicate_total') || k.startsWith('toolpath_recorder_events_rejected_total')));
    if (odd.length) throw new Error(`${opts.label}: the recorder reports ${odd.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (stored >= n) return now;
    if (now > opts.deadline) throw new Error(`${opts.label}: only ${stored} of ${n} events stored before the time limit`);
    if (now - lastReport > 5000) {
      const secs = (now - opts.startedAt) / 1000;
      const rate = Math.round((stored - (opts.from ?? 0)) / secs);
      progress(`${opts.label}: ${stored.toLocaleString('en-US')}/${n.toLocaleString('en-US')} stored, ${rate.toLocaleString('en-US')}/s so far`);
      lastReport = now;
    }
    await sleep(opts.intervalMs ?? 250);
  }
}


const analyzerCodec = JSONCodec<unknown>();

/** One request to the analyzer over NATS (what the gateway sends); throws with the error it answers. */
export async function askAnalyzer<T>(nc: NatsConnection, names: TestNames, subject: keyof ReturnType<typeof analyzerSubjects>, body: unknown, timeoutMs: number): Promise<T> {
  const msg = await nc.request(analyzerSubjects(names.subjectPrefix)[subject], analyzerCodec.encode(body), { timeout: timeoutMs });
  const r = analyzerCodec.decode(msg.data) as ExecutorReply<T>;
  if (!r.ok) throw new Error(`${subject} answered ${r.error.status}: ${r.error.message}`);
  return r.value;
}
