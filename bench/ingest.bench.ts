/**
 * Ingest throughput of the event pipeline against two baselines measured in the same run.
 * `node bench/dist/ingest.bench.js --help` explains the phases.
 */
import { AckPolicy, DeliverPolicy, type JsMsg } from 'nats';
import { Collections, eventsSubjectFilter } from '@toolpath/contracts';
import type { StoredToolEvent } from '@toolpath/event-store';
import { EventPublisher } from '@toolpath/sdk';
import { createTestEventsStream, testUrls } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { encodeBenchEvent, storedRow, BENCH_TENANT, benchEventInput } from './lib/events';
import { CpuShare, findServerPid, machineInfo } from './lib/machine';
import {
  Cleanup,
  confirmRows,
  connectInfra,
  phaseNames,
  preparedEventsCollection,
  progress,
  publishAll,
  recorderBatchStats,
  rowCount,
  scrapeMetrics,
  sleep,
  startRecorder,
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
Each phase uses its own stream, subject prefix and database, all removed afterwards.`,
  options: {
    events: { kind: 'int', default: 200_000, help: 'events for (a) and (b)' },
    naiveEvents: { kind: 'int', default: 20_000, help: 'events for (c): a rate, so fewer suffice' },
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
  const report = new Report('ingest', {
    events: cli.events,
    naiveEvents: cli.skipNaive ? 0 : cli.naiveEvents,
    batchSize,
    recorderEnv: cli.recorderEnv,
  });
  const serverPids = {
    ferretdbOrMongod: findServerPid('ferretdb', portOf(testUrls.mongo)) ?? findServerPid('mongod', portOf(testUrls.mongo)),
    natsServer: findServerPid('nats-server', portOf(testUrls.nats)),
  };
  try {
    report.setMachine(await machineInfo(infra.nc, infra.mongo.db('admin')));

    progress(`(a) baseline: raw insertMany of ${cli.events.toLocaleString('en-US')} rows, batches of ${batchSize}`);
    const raw = await rawInsertMany(infra, cleanup, cli.events, batchSize, deadline, serverPids);
    progress(`(a) ${Math.round(raw.rate)} rows/s`);

    progress(`(b) end to end: ${cli.events.toLocaleString('en-US')} events through a recorder process`);
    const e2e = await endToEnd(infra, cleanup, cli.events, cli.recorderEnv, deadline, serverPids);
    progress(`(b) ${Math.round(e2e.rate)} events/s`);

    report.add({
      name: 'raw insertMany (a)',
      value: raw.rate,
      unit: 'rows/s',
      note: `${cli.events} rows, unordered insertMany of ${batchSize}, one at a time, ${raw.seconds.toFixed(1)} s`,
    });
    report.add({
      name: 'end to end (b)',
      value: e2e.rate,
      unit: 'events/s',
      baseline: { name: 'raw insertMany (a)', value: raw.rate, unit: 'rows/s' },
      target: { on: 'ratio', op: '>=', value: TARGET_E2E_VS_RAW },
      note:
        `first publish -> ${cli.events} rows durable in ${e2e.seconds.toFixed(1)} s; the SDK had every event acked by the stream ` +
        `after ${e2e.publishSeconds.toFixed(1)} s (${Math.round(cli.events / e2e.publishSeconds)}/s); recorder wrote ${e2e.batches.batches} batches, ` +
        `mean ${e2e.batches.meanBatch} rows, mean write ${e2e.batches.meanWriteMs} ms`,
    });
    report.details.cpuCoresUsed = { raw: raw.cpu, e2e: e2e.cpu };
    report.details.recorderBatches = e2e.batches;

    if (!cli.skipNaive) {
      progress(`(c) naive recorder: ${cli.naiveEvents.toLocaleString('en-US')} events, one insertOne per message`);
      const naive = await naiveRecorder(infra, cleanup, cli.naiveEvents, deadline, serverPids);
      progress(`(c) ${Math.round(naive.rate)} events/s`);
      report.details.cpuCoresUsed = { raw: raw.cpu, e2e: e2e.cpu, naive: naive.cpu };
      report.add({
        name: 'naive recorder (c)',
        value: naive.rate,
        unit: 'events/s',
        note: `${cli.naiveEvents} events (a rate: fewer than (b) suffice), pre-published, ${naive.seconds.toFixed(1)} s`,
      });
      report.add({
        name: 'end to end vs naive',
        value: e2e.rate,
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

interface PhaseResult {
  rate: number;
  seconds: number;
  cpu: Record<string, number>;
}

/** (a) The database alone: the next batch is built while the previous one is being written. */
async function rawInsertMany(infra: Infra, cleanup: Cleanup, n: number, batchSize: number, deadline: number, pids: Record<string, number | undefined>): Promise<PhaseResult> {
  const names = phaseNames('benchraw', infra, cleanup);
  const db = infra.mongo.db(names.mongoDb);
  const col = await preparedEventsCollection(db);
  const build = (from: number): StoredToolEvent[] => {
    const rows: StoredToolEvent[] = [];
    const receivedAt = new Date();
    for (let i = from; i < Math.min(n, from + batchSize); i++) rows.push(storedRow(encodeBenchEvent(i, names.token, names.subjectPrefix).data, i + 1, receivedAt));
    return rows;
  };
  const cpu = new CpuShare({ bench: process.pid, ...pids });
  const t0 = performance.now();
  let lastReport = t0;
  let next = build(0);
  for (let from = 0; from < n; from += batchSize) {
    const writing = col.insertMany(next, { ordered: false });
    next = from + batchSize < n ? build(from + batchSize) : [];
    await writing;
    const now = performance.now();
    if (now > deadline) throw new Error('(a) did not finish in time');
    if (now - lastReport > 5000) {
      progress(`(a) ${(from + batchSize).toLocaleString('en-US')}/${n.toLocaleString('en-US')} rows, ${Math.round((from + batchSize) / ((now - t0) / 1000))}/s`);
      lastReport = now;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const share = cpu.finish();
  const rows = await rowCount(db);
  if (rows !== n) throw new Error(`(a) wrote ${rows} rows, expected ${n}`);
  return { rate: n / seconds, seconds, cpu: share };
}

/** (b) SDK -> JetStream -> recorder process -> rows. */
async function endToEnd(
  infra: Infra,
  cleanup: Cleanup,
  n: number,
  recorderEnv: Record<string, string>,
  deadline: number,
  pids: Record<string, number | undefined>,
): Promise<PhaseResult & { publishSeconds: number; batches: ReturnType<typeof recorderBatchStats> }> {
  const names = phaseNames('benche2e', infra, cleanup);
  const recorder = await startRecorder(names, recorderEnv, cleanup);
  // The recorder creates its indexes in the background at start: let that finish first, as it has
  // long before any real traffic arrives.
  await waitForIndexes(infra, names.mongoDb, deadline);
  const cpu = new CpuShare({ bench: process.pid, recorder: recorder.proc.pid, ...pids });
  const pub = publishAll(names, n, deadline, (sent) => progress(`(b) published ${sent.toLocaleString('en-US')}`));
  cleanup.add('close publisher', () => pub.publisher.close());
  let publishedAt = 0;
  const published = pub.done.then((t) => (publishedAt = t));
  // A publishing failure ends the wait at once instead of at the time limit.
  const publishFailed = published.then(() => new Promise<never>(() => undefined));
  const storedAt = await Promise.race([waitStored(recorder, n, { deadline, label: '(b)', startedAt: performance.now() }), publishFailed]);
  await published;
  const share = cpu.finish();
  const seconds = (storedAt - pub.firstPublishAt) / 1000;
  const rows = await confirmRows(infra.mongo.db(names.mongoDb), n, deadline);
  if (rows !== n) throw new Error(`(b) the database holds ${rows} rows, expected ${n}`);
  const batches = recorderBatchStats(await scrapeMetrics(recorder.port));
  await pub.publisher.close();
  return { rate: n / seconds, seconds, publishSeconds: (publishedAt - pub.firstPublishAt) / 1000, cpu: share, batches };
}

async function waitForIndexes(infra: Infra, dbName: string, deadline: number): Promise<void> {
  const col = infra.mongo.db(dbName).collection(Collections.toolEvents);
  for (;;) {
    const have = await col.listIndexes().toArray().catch(() => []);
    if (have.length >= 5 || performance.now() > deadline) return;
    await sleep(100);
  }
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
  const stopAt = setTimeout(() => void messages.close(), Math.max(0, deadline - t0));
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
    await insert(m);
    if (++stored >= n) break;
    const now = performance.now();
    if (now - lastReport > 5000) {
      progress(`(c) ${stored.toLocaleString('en-US')}/${n.toLocaleString('en-US')} stored, ${Math.round(stored / ((now - t0) / 1000))}/s`);
      lastReport = now;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const share = cpu.finish();
  clearTimeout(stopAt);
  await messages.close();
  if (stored < n) throw new Error(`(c) stored ${stored} of ${n} before the time limit`);
  const rows = await rowCount(db);
  if (rows !== n) throw new Error(`(c) the database holds ${rows} rows, expected ${n} (collection ${Collections.toolEvents})`);
  return { rate: n / seconds, seconds, cpu: share };
}

function portOf(url: string): string {
  return /:(\d+)(\/|$)/.exec(url.replace(/^[a-z]+:\/\//, ''))?.[1] ?? '';
}

main().catch((err: unknown) => {
  console.error(`ingest.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
