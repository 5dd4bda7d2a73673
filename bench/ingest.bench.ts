/**
 * Ingest throughput of the event pipeline against two baselines measured in the same run.
 * `node bench/dist/ingest.bench.js --help` explains the phases.
 */
import type { Collection } from 'mongodb';
import { AckPolicy, DeliverPolicy } from 'nats';
import { eventsSubjectFilter } from '@toolpath/contracts';
import { EventPublisher } from '@toolpath/sdk';
import { createTestEventsStream, type TestNames } from '@toolpath/testing';
import type { StoredToolEvent } from '@toolpath/event-store';
import { parseCli } from './lib/cli';
import { storedRow, BENCH_TENANT, benchEventInput } from './lib/events';
import { CpuShare } from './lib/machine';
import {
  Cleanup,
  connectInfra,
  describeInfra,
  expectRows,
  phaseNames,
  preparedEventsCollection,
  progress,
  benchPublisher,
  publishRange,
  rawInsertMany,
  recorderBatchStats,
  scrapeMetrics,
  serverPids,
  startRecorder,
  waitForRecorderIndexes,
  waitStored,
  type Infra,
} from './lib/pipeline';
import { Report } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/ingest.bench.js',
  description: `
Ingest throughput, three ways, on the same documents and the same Mongo-wire server:
 (a) baseline: raw unordered insertMany of the rows the recorder would store, into a collection
     with the recorder's indexes, batch size and writes at a time = the recorder's
     (RECORDER_BATCH_SIZE, RECORDER_WRITE_CONCURRENCY: defaults 1000 and 2);
 (b) end to end: EventPublisher -> JetStream (file storage) -> a real recorder process -> rows,
     timed from the first publish until the recorder's durable counter reaches N (rows the
     database acknowledged; the count is then cross-checked in the database); target >= 0.6x of (a);
 (c) naive recorder: a pull consumer in this process that does one insertOne per message, then
     acks; its stream is filled before the clock starts (which favours it); target (b) >= 5x (c).
With --rounds R, (a), (b) and (c) alternate in R slices (same collections, recorder and streams,
growing), and each figure is the median of its rounds: a burst of other load on the machine then
hits all three alike. Each phase uses its own stream, subject prefix and database, all removed
afterwards.`,
  options: {
    events: { kind: 'int', default: 200_000, help: 'events for (a) and (b)' },
    naiveEvents: { kind: 'int', default: 20_000, help: 'events for (c): a rate, so fewer suffice' },
    rounds: { kind: 'int', default: 1, help: '(a), (b) and (c) alternate in this many slices; medians are reported' },
    skipNaive: { kind: 'flag', help: 'leave out (c)' },
    verifyCount: { kind: 'flag', help: 'also count the rows with countDocuments (exact; minutes on FerretDB)' },
    recorderEnv: { kind: 'pairs', help: 'setting passed to the recorder, e.g. RECORDER_BATCH_SIZE=2000 (repeatable)' },
    maxMinutes: { kind: 'number', default: 30, help: 'abort (and clean up) after this long' },
  },
});

const TARGET_E2E_VS_RAW = 0.6;
const TARGET_E2E_VS_NAIVE = 5;

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'ingest.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const batchSize = Number(cli.recorderEnv.RECORDER_BATCH_SIZE ?? 1000);
  const concurrency = Number(cli.recorderEnv.RECORDER_WRITE_CONCURRENCY ?? 2);
  const rounds = Math.min(cli.rounds, Math.floor(cli.events / batchSize), cli.skipNaive ? Infinity : cli.naiveEvents);
  const report = new Report('ingest', {
    events: cli.events,
    rounds,
    naiveEvents: cli.skipNaive ? 0 : cli.naiveEvents,
    batchSize,
    writeConcurrency: concurrency,
    recorderEnv: cli.recorderEnv,
  });
  const pids = serverPids();
  try {
    report.setMachine(await describeInfra(infra));

    const rawNames = phaseNames('benchraw', infra, cleanup);
    const rawDb = infra.mongo.db(rawNames.mongoDb);
    const rawCol = await preparedEventsCollection(rawDb);
    const e2eNames = phaseNames('benche2e', infra, cleanup);
    const e2eDb = infra.mongo.db(e2eNames.mongoDb);
    const recorder = await startRecorder(e2eNames, cli.recorderEnv, cleanup);
    // The recorder creates its indexes in the background at start: let that finish first, as it
    // has long before any real traffic arrives.
    await waitForRecorderIndexes(e2eDb, deadline);
    const publisher = benchPublisher(e2eNames);
    cleanup.add('close publisher', () => publisher.close());

    const raw: Round[] = [];
    const e2e: Array<Round & { publishSeconds: number }> = [];
    const naiveRounds: Round[] = [];
    const rawCpu = new CpuAccumulator();
    const e2eCpu = new CpuAccumulator();
    const naiveCpu = new CpuAccumulator();
    const naive = cli.skipNaive ? undefined : await NaiveRecorder.create(infra, cleanup);
    for (let r = 0; r < rounds; r++) {
      const range = { from: Math.floor((cli.events * r) / rounds), to: Math.floor((cli.events * (r + 1)) / rounds) };
      const n = range.to - range.from;
      const tag = rounds > 1 ? ` round ${r + 1}/${rounds}` : '';

      progress(`(a)${tag}: raw insertMany of ${n.toLocaleString('en-US')} rows, batches of ${batchSize}`);
      let cpu = new CpuShare({ bench: process.pid, ...pids });
      const rawSeconds = await rawInsertMany(rawCol, rawNames, range, {
        batchSize,
        concurrency,
        deadline,
        onProgress: (written, secs) => progress(`(a) ${written.toLocaleString('en-US')}/${n.toLocaleString('en-US')} rows, ${Math.round(written / secs)}/s`),
      });
      rawCpu.add(cpu.finish(), rawSeconds);
      raw.push({ rate: n / rawSeconds, seconds: rawSeconds });
      progress(`(a)${tag}: ${Math.round(n / rawSeconds)} rows/s`);

      progress(`(b)${tag}: ${n.toLocaleString('en-US')} events through the recorder process`);
      cpu = new CpuShare({ bench: process.pid, recorder: recorder.proc.pid, ...pids });
      const pub = publishRange(publisher, e2eNames, range, deadline, (sent) => progress(`(b) published ${sent.toLocaleString('en-US')}`));
      // A publishing failure ends the wait at once instead of at the time limit.
      const publishFailed = pub.done.then(() => new Promise<never>(() => undefined));
      const storedAt = await Promise.race([waitStored(recorder, range.to, { deadline, label: '(b)', startedAt: performance.now(), from: range.from, publishing: () => !pub.finished }), publishFailed]);
      const publishedAt = await pub.done;
      const seconds = (storedAt - pub.firstPublishAt) / 1000;
      e2eCpu.add(cpu.finish(), seconds);
      e2e.push({ rate: n / seconds, seconds, publishSeconds: (publishedAt - pub.firstPublishAt) / 1000 });
      progress(`(b)${tag}: ${Math.round(n / seconds)} events/s`);

      if (naive) {
        const slice = { from: Math.floor((cli.naiveEvents * r) / rounds), to: Math.floor((cli.naiveEvents * (r + 1)) / rounds) };
        const m = slice.to - slice.from;
        progress(`(c)${tag}: naive recorder, ${m.toLocaleString('en-US')} events, one insertOne per message`);
        cpu = new CpuShare({ bench: process.pid, ...pids });
        const naiveSeconds = await naive.round(slice, deadline);
        naiveCpu.add(cpu.finish(), naiveSeconds);
        naiveRounds.push({ rate: m / naiveSeconds, seconds: naiveSeconds });
        progress(`(c)${tag}: ${Math.round(m / naiveSeconds)} events/s`);
      }
    }
    const naiveCheck = await naive?.verify(deadline, cli.verifyCount);
    const rowCheck = {
      raw: await expectRows(rawDb, cli.events, { deadline, exact: cli.verifyCount, label: '(a)' }),
      e2e: await expectRows(e2eDb, cli.events, { deadline, exact: cli.verifyCount, label: '(b)' }),
    };
    const batches = recorderBatchStats(await scrapeMetrics(recorder.port));
    await publisher.close();
    await recorder.stop();

    const rawRate = median(raw.map((x) => x.rate));
    const e2eRate = median(e2e.map((x) => x.rate));
    const per = rounds > 1 ? ` per round, median of ${rounds} (rounds: ${raw.map((x) => Math.round(x.rate)).join(', ')})` : '';
    report.add({
      name: 'raw insertMany (a)',
      value: rawRate,
      unit: 'rows/s',
      note: `${cli.events} rows, unordered insertMany of ${batchSize}, ${concurrency} at a time, ${sum(raw.map((x) => x.seconds)).toFixed(1)} s${per}`,
    });
    report.add({
      name: 'end to end (b)',
      value: e2eRate,
      unit: 'events/s',
      baseline: { name: 'raw insertMany (a)', value: rawRate, unit: 'rows/s' },
      target: { on: 'ratio', op: '>=', value: TARGET_E2E_VS_RAW },
      note:
        `first publish -> ${cli.events} rows durable in ${sum(e2e.map((x) => x.seconds)).toFixed(1)} s` +
        (rounds > 1 ? ` (rounds: ${e2e.map((x) => Math.round(x.rate)).join(', ')})` : '') +
        `; the SDK had them all acked by the stream after ${sum(e2e.map((x) => x.publishSeconds)).toFixed(1)} s; ` +
        `recorder wrote ${batches.batches} batches, mean ${batches.meanBatch} rows, mean write ${batches.meanWriteMs} ms`,
    });
    report.details.rounds = { raw, e2e, naive: naiveRounds };
    report.details.rowCheck = { ...rowCheck, naive: naiveCheck };
    report.note(`rows in the database: (a) ${rowCheck.raw}; (b) ${rowCheck.e2e}${naiveCheck ? `; (c) ${naiveCheck}` : ''}`);
    report.details.cpuCoresUsed = { raw: rawCpu.mean(), e2e: e2eCpu.mean(), ...(naive ? { naive: naiveCpu.mean() } : {}) };
    report.details.recorderBatches = batches;

    if (naive) {
      const naiveRate = median(naiveRounds.map((x) => x.rate));
      report.add({
        name: 'naive recorder (c)',
        value: naiveRate,
        unit: 'events/s',
        note:
          `${cli.naiveEvents} events (a rate: fewer than (b) suffice), each slice published before its clock starts, ` +
          `${sum(naiveRounds.map((x) => x.seconds)).toFixed(1)} s` +
          (rounds > 1 ? `; per round, median of ${rounds} (rounds: ${naiveRounds.map((x) => Math.round(x.rate)).join(', ')})` : ''),
      });
      report.add({
        name: 'end to end vs naive',
        value: e2eRate,
        unit: 'events/s',
        baseline: { name: 'naive recorder (c)', value: naiveRate, unit: 'events/s' },
        target: { on: 'ratio', op: '>=', value: TARGET_E2E_VS_NAIVE },
      });
    }
    report.note('CPU cores used per phase (1.0 = one full core; "others" = processes outside the bench): ' + JSON.stringify(report.details.cpuCoresUsed));
    report.print();
    report.write(cli.json);
  } finally {
    await cleanup.run();
  }
}

interface Round {
  rate: number;
  seconds: number;
}

/** Time-weighted mean of the CPU shares of several rounds. */
class CpuAccumulator {
  private readonly total: Record<string, number> = {};
  private seconds = 0;

  add(share: Record<string, number>, seconds: number): void {
    for (const [k, v] of Object.entries(share)) this.total[k] = (this.total[k] ?? 0) + v * seconds;
    this.seconds += seconds;
  }

  mean(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.total).map(([k, v]) => [k, Math.round((v / this.seconds) * 100) / 100]));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/**
 * (c) What a first recorder would look like: consume(), and for every message insertOne then
 * ack. Same stream content (published with the SDK before its clock starts), same row shape,
 * same indexes, same decode and validation per message; only the batching is missing.
 */
class NaiveRecorder {
  private consumerReady?: Promise<void>;
  private stored = 0;

  private constructor(
    private readonly infra: Infra,
    private readonly names: TestNames,
    private readonly col: Collection<StoredToolEvent>,
  ) {}

  static async create(infra: Infra, cleanup: Cleanup): Promise<NaiveRecorder> {
    const names = phaseNames('benchnaive', infra, cleanup);
    await createTestEventsStream(infra.nc, names, { storage: 'file' });
    const col = await preparedEventsCollection(infra.mongo.db(names.mongoDb));
    return new NaiveRecorder(infra, names, col);
  }

  /** Publishes events from..to-1 (untimed), then times storing them one by one. */
  async round(range: { from: number; to: number }, deadline: number): Promise<number> {
    const n = range.to - range.from;
    const publisher = new EventPublisher(this.infra.nc, { tenantId: BENCH_TENANT, subjectPrefix: this.names.subjectPrefix, maxBuffer: n });
    for (let i = range.from; i < range.to; i++) publisher.publish(benchEventInput(i, this.names.token));
    await publisher.flush(Math.max(1000, deadline - performance.now()));
    await publisher.close();
    this.consumerReady ??= this.addConsumer();
    await this.consumerReady;

    const consumer = await this.infra.nc.jetstream().consumers.get(this.names.stream, 'naive');
    const t0 = performance.now();
    const messages = await consumer.consume();
    // stop(), not close() after a break: close() on an iterator left by `break` never settles.
    const stopAt = setTimeout(() => messages.stop(), Math.max(0, deadline - t0));
    let stored = 0;
    let lastReport = t0;
    for await (const m of messages) {
      if (stored >= n) continue;
      await this.col.insertOne(storedRow(m.data, m.seq, new Date()));
      m.ack();
      if (++stored >= n) messages.stop();
      const now = performance.now();
      if (now - lastReport > 5000) {
        progress(`(c) ${stored.toLocaleString('en-US')}/${n.toLocaleString('en-US')} stored, ${Math.round(stored / ((now - t0) / 1000))}/s`);
        lastReport = now;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    clearTimeout(stopAt);
    await messages.closed();
    if (stored < n) throw new Error(`(c) stored ${stored} of ${n} before the time limit`);
    this.stored += stored;
    return seconds;
  }

  verify(deadline: number, exact: boolean): Promise<string> {
    return expectRows(this.infra.mongo.db(this.names.mongoDb), this.stored, { deadline, exact, label: '(c)' });
  }

  private async addConsumer(): Promise<void> {
    const jsm = await this.infra.nc.jetstreamManager();
    await jsm.consumers.add(this.names.stream, {
      durable_name: 'naive',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: eventsSubjectFilter(this.names.subjectPrefix),
      ack_wait: 30_000_000_000,
      max_ack_pending: 20_000,
    });
  }
}

main().catch((err: unknown) => {
  console.error(`ingest.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
