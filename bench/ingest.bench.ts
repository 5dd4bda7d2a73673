/**
 * Ingest throughput of the event pipeline against two baselines measured in the same run.
 * `node bench/dist/ingest.bench.js --help` explains the phases.
 */
import { AckPolicy, DeliverPolicy, type JsMsg } from 'nats';
import { Collections, eventsSubjectFilter } from '@toolpath/contracts';
import { EventPublisher } from '@toolpath/sdk';
import { createTestEventsStream } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { storedRow, BENCH_TENANT, benchEventInput } from './lib/events';
import { CpuShare, machineInfo } from './lib/machine';
import {
  Cleanup,
  confirmRows,
  connectInfra,
  phaseNames,
  preparedEventsCollection,
  progress,
  benchPublisher,
  publishRange,
  rawInsertMany,
  recorderBatchStats,
  rowCount,
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
     with the recorder's indexes, one batch at a time, batch size = the recorder's batch size;
 (b) end to end: EventPublisher -> JetStream (file storage) -> a real recorder process -> rows,
     timed from the first publish until the recorder's durable counter reaches N (then the row
     count is confirmed in the database); target >= 0.6x of (a);
 (c) naive recorder: a pull consumer in this process that does one insertOne per message, then
     acks; its stream is filled before the clock starts (which favours it); target (b) >= 5x (c).
With --rounds R, (a) and (b) alternate in R slices of N/R events (same collection, same recorder
and stream, growing), and each is the median of its rounds: a burst of other load on the machine
then hits both alike. Each phase uses its own stream, subject prefix and database, all removed
afterwards.`,
  options: {
    events: { kind: 'int', default: 200_000, help: 'events for (a) and (b)' },
    naiveEvents: { kind: 'int', default: 20_000, help: 'events for (c): a rate, so fewer suffice' },
    rounds: { kind: 'int', default: 1, help: '(a) and (b) alternate in this many slices; medians are reported' },
    skipNaive: { kind: 'flag', help: 'leave out (c)' },
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
  const rounds = Math.min(cli.rounds, Math.floor(cli.events / batchSize));
  const report = new Report('ingest', {
    events: cli.events,
    rounds,
    naiveEvents: cli.skipNaive ? 0 : cli.naiveEvents,
    batchSize,
    recorderEnv: cli.recorderEnv,
  });
  const pids = serverPids();
  try {
    report.setMachine(await machineInfo(infra.nc, infra.mongo.db('admin')));

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
    const rawCpu = new CpuAccumulator();
    const e2eCpu = new CpuAccumulator();
    for (let r = 0; r < rounds; r++) {
      const range = { from: Math.floor((cli.events * r) / rounds), to: Math.floor((cli.events * (r + 1)) / rounds) };
      const n = range.to - range.from;
      const tag = rounds > 1 ? ` round ${r + 1}/${rounds}` : '';

      progress(`(a)${tag}: raw insertMany of ${n.toLocaleString('en-US')} rows, batches of ${batchSize}`);
      let cpu = new CpuShare({ bench: process.pid, ...pids });
      const rawSeconds = await rawInsertMany(rawCol, rawNames, range, batchSize, deadline, (written, secs) =>
        progress(`(a) ${written.toLocaleString('en-US')}/${n.toLocaleString('en-US')} rows, ${Math.round(written / secs)}/s`),
      );
      rawCpu.add(cpu.finish(), rawSeconds);
      raw.push({ rate: n / rawSeconds, seconds: rawSeconds });
      progress(`(a)${tag}: ${Math.round(n / rawSeconds)} rows/s`);

      progress(`(b)${tag}: ${n.toLocaleString('en-US')} events through the recorder process`);
      cpu = new CpuShare({ bench: process.pid, recorder: recorder.proc.pid, ...pids });
      const pub = publishRange(publisher, e2eNames, range, deadline, (sent) => progress(`(b) published ${sent.toLocaleString('en-US')}`));
      // A publishing failure ends the wait at once instead of at the time limit.
      const publishFailed = pub.done.then(() => new Promise<never>(() => undefined));
      const storedAt = await Promise.race([waitStored(recorder, range.to, { deadline, label: '(b)', startedAt: performance.now(), from: range.from }), publishFailed]);
      const publishedAt = await pub.done;
      const seconds = (storedAt - pub.firstPublishAt) / 1000;
      e2eCpu.add(cpu.finish(), seconds);
      e2e.push({ rate: n / seconds, seconds, publishSeconds: (publishedAt - pub.firstPublishAt) / 1000 });
      progress(`(b)${tag}: ${Math.round(n / seconds)} events/s`);
    }
    const rawRows = await rowCount(rawDb);
    if (rawRows !== cli.events) throw new Error(`(a) wrote ${rawRows} rows, expected ${cli.events}`);
    const e2eRows = await confirmRows(e2eDb, cli.events, deadline);
    if (e2eRows !== cli.events) throw new Error(`(b) the database holds ${e2eRows} rows, expected ${cli.events}`);
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
      note: `${cli.events} rows, unordered insertMany of ${batchSize}, one at a time, ${sum(raw.map((x) => x.seconds)).toFixed(1)} s${per}`,
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
    report.details.rounds = { raw, e2e };
    report.details.cpuCoresUsed = { raw: rawCpu.mean(), e2e: e2eCpu.mean() };
    report.details.recorderBatches = batches;

    if (!cli.skipNaive) {
      progress(`(c) naive recorder: ${cli.naiveEvents.toLocaleString('en-US')} events, one insertOne per message`);
      const naive = await naiveRecorder(infra, cleanup, cli.naiveEvents, deadline, pids);
      progress(`(c) ${Math.round(naive.rate)} events/s`);
      report.details.cpuCoresUsed = { raw: rawCpu.mean(), e2e: e2eCpu.mean(), naive: naive.cpu };
      report.add({
        name: 'naive recorder (c)',
        value: naive.rate,
        unit: 'events/s',
        note: `${cli.naiveEvents} events (a rate: fewer than (b) suffice), pre-published, ${naive.seconds.toFixed(1)} s`,
      });
      report.add({
        name: 'end to end vs naive',
        value: e2eRate,
        unit: 'events/s',
        baseline: { name: 'naive recorder (c)', value: naive.rate, unit: 'events/s' },
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

interface PhaseResult extends Round {
  cpu: Record<string, number>;
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
 * ack. Same stream content (published with the SDK before the clock starts), same row shape,
 * same indexes, same decode and validation per message; only the batching is missing.
 */
async function naiveRecorder(infra: Infra, cleanup: Cleanup, n: number, deadline: number, pids: Record<string, number | undefined>): Promise<PhaseResult> {
  const names = phaseNames('benchnaive', infra, cleanup);
  await createTestEventsStream(infra.nc, names, { storage: 'file' });
  const publisher = new EventPublisher(infra.nc, { tenantId: BENCH_TENANT, subjectPrefix: names.subjectPrefix, maxBuffer: n });
  for (let i = 0; i < n; i++) publisher.publish(benchEventInput(i, names.token));
  await publisher.flush(Math.max(1000, deadline - performance.now()));
  await publisher.close();

  const db = infra.mongo.db(names.mongoDb);
  const col = await preparedEventsCollection(db);
  const jsm = await infra.nc.jetstreamManager();
  await jsm.consumers.add(names.stream, {
    durable_name: 'naive',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: eventsSubjectFilter(names.subjectPrefix),
    ack_wait: 30_000_000_000,
    max_ack_pending: 20_000,
  });
  const consumer = await infra.nc.jetstream().consumers.get(names.stream, 'naive');
  const cpu = new CpuShare({ bench: process.pid, ...pids });
  const t0 = performance.now();
  const messages = await consumer.consume();
  // stop(), not close() after a break: close() on an iterator left by `break` never settles.
  const stopAt = setTimeout(() => messages.stop(), Math.max(0, deadline - t0));
  let stored = 0;
  let lastReport = t0;
  const insert = async (m: JsMsg) => {
    try {
      await col.insertOne(storedRow(m.data, m.seq, new Date()));
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    m.ack();
  };
  for await (const m of messages) {
    if (stored >= n) continue;
    await insert(m);
    if (++stored >= n) messages.stop();
    const now = performance.now();
    if (now - lastReport > 5000) {
      progress(`(c) ${stored.toLocaleString('en-US')}/${n.toLocaleString('en-US')} stored, ${Math.round(stored / ((now - t0) / 1000))}/s`);
      lastReport = now;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const share = cpu.finish();
  clearTimeout(stopAt);
  await messages.closed();
  if (stored < n) throw new Error(`(c) stored ${stored} of ${n} before the time limit`);
  const rows = await rowCount(db);
  if (rows !== n) throw new Error(`(c) the database holds ${rows} rows, expected ${n} (collection ${Collections.toolEvents})`);
  return { rate: n / seconds, seconds, cpu: share };
}

main().catch((err: unknown) => {
  console.error(`ingest.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
