/**
 * Recorder memory over a long run: its RSS must not grow with the number of events.
 * `node bench/dist/recorder-memory.bench.js --help` explains the phases.
 */
import { parseCli } from './lib/cli';
import { CpuShare, rssBytes } from './lib/machine';
import {
  Cleanup,
  connectInfra,
  describeInfra,
  expectRows,
  phaseNames,
  preparedEventsCollection,
  progress,
  publishAll,
  rawInsertMany,
  recorderBatchStats,
  scrapeMetrics,
  serverPids,
  sleep,
  startRecorder,
  waitForRecorderIndexes,
  waitStored,
  STORED_METRIC,
  type Infra,
} from './lib/pipeline';
import { Report } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/recorder-memory.bench.js',
  description: `
Pushes --events through one real recorder process (EventPublisher -> JetStream -> recorder ->
rows) while reading the recorder's RSS (VmRSS of /proc/<pid>/status) every --sample-ms, and
reports its peak and its RSS when 10%, 50% and 100% of the events were stored, beside its idle
RSS after start-up. The recorder holds at most (RECORDER_WRITE_CONCURRENCY + 1) batches, whatever
the backlog, so its RSS must not grow with the number of events: the peak while the second half
of the events is stored must stay within 1.25x of the peak while 10-50% are (single samples sit
anywhere on the garbage collector's sawtooth, and the first seconds are the heap's warm-up).
The end-to-end throughput is shown against a raw insertMany baseline measured in the same run,
half before and half after it (batch size and writes at a time as the recorder's), into an
empty collection each time.`,
  options: {
    events: { kind: 'int', default: 1_000_000, help: 'events through the recorder' },
    baselineEvents: { kind: 'int', default: 50_000, help: 'rows of the raw insertMany baseline (half before the run, half after)' },
    sampleMs: { kind: 'int', default: 1000, help: 'RSS sampling interval' },
    recorderEnv: { kind: 'pairs', help: 'setting passed to the recorder (repeatable)' },
    verifyCount: { kind: 'flag', help: 'also count the rows with countDocuments (exact; minutes on FerretDB)' },
    maxMinutes: { kind: 'number', default: 90, help: 'abort (and clean up) after this long' },
  },
});

const FLAT_TARGET = 1.25;
const E2E_TARGET = 0.6;
const MiB = 2 ** 20;

interface RssSample {
  s: number;
  rssMiB: number;
  stored: number;
}

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'recorder-memory.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const batchSize = Number(cli.recorderEnv.RECORDER_BATCH_SIZE ?? 1000);
  const report = new Report('recorder-memory', { events: cli.events, baselineEvents: cli.baselineEvents, sampleMs: cli.sampleMs, recorderEnv: cli.recorderEnv });
  try {
    report.setMachine(await describeInfra(infra));

    // The baseline runs before and after the long run, half each: other load on the machine
    // during a long run then weighs on both sides (one baseline taken before it did not).
    const half = Math.ceil(cli.baselineEvents / 2);
    progress(`baseline (before): raw insertMany of ${half.toLocaleString('en-US')} rows`);
    const rawBefore = await rawInsertRate(infra, cleanup, half, batchSize, deadline);
    progress(`baseline (before): ${Math.round(rawBefore)} rows/s`);

    const names = phaseNames('benchmem', infra, cleanup);
    const recorder = await startRecorder(names, cli.recorderEnv, cleanup);
    const pid = recorder.proc.pid!;
    await waitForRecorderIndexes(infra.mongo.db(names.mongoDb), deadline);
    await sleep(3000);
    const idle = rssBytes(pid)! / MiB;
    progress(`recorder pid ${pid}, idle RSS ${idle.toFixed(0)} MiB; publishing ${cli.events.toLocaleString('en-US')} events`);

    const samples: RssSample[] = [];
    let sampling = true;
    const t0 = performance.now();
    const sampler = (async () => {
      let lastReport = 0;
      while (sampling) {
        const rss = rssBytes(pid);
        const stored = (await scrapeMetrics(recorder.port).catch(() => undefined))?.get(STORED_METRIC);
        if (rss !== undefined && stored !== undefined) {
          const s = (performance.now() - t0) / 1000;
          samples.push({ s: Math.round(s * 10) / 10, rssMiB: Math.round((rss / MiB) * 10) / 10, stored });
          if (s - lastReport >= 10) {
            progress(`${stored.toLocaleString('en-US')}/${cli.events.toLocaleString('en-US')} stored (${Math.round(stored / s)}/s), recorder RSS ${(rss / MiB).toFixed(0)} MiB`);
            lastReport = s;
          }
        }
        await sleep(cli.sampleMs);
      }
    })();

    const cpu = new CpuShare({ bench: process.pid, recorder: pid, ...serverPids() });
    const pub = publishAll(names, cli.events, deadline);
    cleanup.add('close publisher', () => pub.publisher.close());
    const publishFailed = pub.done.then(() => new Promise<never>(() => undefined));
    const storedAt = await Promise.race([waitStored(recorder, cli.events, { deadline, label: 'memory', startedAt: t0, intervalMs: 500, publishing: () => !pub.finished }), publishFailed]);
    const publishedAt = await pub.done;
    const cpuShare = cpu.finish();
    await sleep(cli.sampleMs);
    sampling = false;
    await sampler;
    const rowCheck = await expectRows(infra.mongo.db(names.mongoDb), cli.events, { deadline, exact: cli.verifyCount, label: 'memory' });
    const batches = recorderBatchStats(await scrapeMetrics(recorder.port));
    await pub.publisher.close();
    await recorder.stop();
    progress(`baseline (after): raw insertMany of ${half.toLocaleString('en-US')} rows`);
    const rawAfter = await rawInsertRate(infra, cleanup, half, batchSize, deadline);
    progress(`baseline (after): ${Math.round(rawAfter)} rows/s`);
    const rawRate = (rawBefore + rawAfter) / 2;

    const at = (fraction: number): RssSample => samples.find((x) => x.stored >= fraction * cli.events) ?? samples[samples.length - 1];
    const peak = samples.reduce((m, x) => (x.rssMiB > m.rssMiB ? x : m), samples[0]);
    const idleBase = { name: 'idle after start', value: idle, unit: 'MiB' };
    const [p10, p50, p100] = [at(0.1), at(0.5), at(1)];
    report.add({ name: 'recorder RSS at 10% stored', value: p10.rssMiB, unit: 'MiB', baseline: idleBase, note: `${p10.stored} stored at ${p10.s} s` });
    report.add({ name: 'recorder RSS at 50% stored', value: p50.rssMiB, unit: 'MiB', baseline: idleBase, note: `${p50.stored} stored at ${p50.s} s` });
    report.add({ name: 'recorder RSS at 100% stored', value: p100.rssMiB, unit: 'MiB', baseline: idleBase, note: `${p100.stored} stored at ${p100.s} s` });
    // Single samples land anywhere on the garbage collector's sawtooth (about +-25 MiB here), and
    // the first seconds are the heap's warm-up: compare the peaks of two windows instead.
    const peakIn = (lo: number, hi: number) =>
      Math.max(...samples.filter((x) => x.stored >= lo * cli.events && x.stored <= hi * cli.events).map((x) => x.rssMiB));
    const early = peakIn(0.1, 0.5);
    const late = peakIn(0.5, 1);
    report.add({
      name: 'peak RSS, 50-100% vs 10-50% stored',
      value: late,
      unit: 'MiB',
      baseline: { name: 'peak RSS while 10-50% stored', value: early, unit: 'MiB' },
      target: { on: 'ratio', op: '<=', value: FLAT_TARGET },
      note: 'flat: the second half of the events does not raise the peak',
    });
    report.add({ name: 'recorder peak RSS', value: peak.rssMiB, unit: 'MiB', baseline: idleBase, note: `at ${peak.s} s, ${peak.stored} stored` });
    const seconds = (storedAt - pub.firstPublishAt) / 1000;
    report.add({
      name: 'end-to-end throughput',
      value: cli.events / seconds,
      unit: 'events/s',
      baseline: { name: `raw insertMany, ${half} rows before and ${half} after`, value: rawRate, unit: 'rows/s' },
      target: { on: 'ratio', op: '>=', value: E2E_TARGET },
      note: `${cli.events} events in ${seconds.toFixed(0)} s (baseline ${Math.round(rawBefore)} rows/s before, ${Math.round(rawAfter)} after); all acked by the stream after ${((publishedAt - pub.firstPublishAt) / 1000).toFixed(0)} s; ${batches.batches} batches, mean ${batches.meanBatch} rows, mean write ${batches.meanWriteMs} ms`,
    });
    report.note(`rows in the database: ${rowCheck}`);
    report.note(`${samples.length} RSS samples, one every ${cli.sampleMs} ms; CPU cores used during the run: ${JSON.stringify(cpuShare)}`);
    report.details.rss = thin(samples, 300);
    report.details.cpuCoresUsed = cpuShare;
    report.print();
    report.write(cli.json);
  } finally {
    await cleanup.run();
  }
}

async function rawInsertRate(infra: Infra, cleanup: Cleanup, n: number, batchSize: number, deadline: number): Promise<number> {
  const names = phaseNames('benchmemraw', infra, cleanup);
  const db = infra.mongo.db(names.mongoDb);
  const seconds = await rawInsertMany(await preparedEventsCollection(db), names, { from: 0, to: n }, {
    batchSize,
    concurrency: Number(cli.recorderEnv.RECORDER_WRITE_CONCURRENCY ?? 2),
    deadline,
  });
  await db.dropDatabase();
  return n / seconds;
}

/** At most `max` samples, evenly spread, for the JSON file. */
function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]);
}

main().catch((err: unknown) => {
  console.error(`recorder-memory.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
