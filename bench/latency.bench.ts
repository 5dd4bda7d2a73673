/**
 * Publish -> stored latency at half the pipeline's maximum throughput.
 * `node bench/dist/latency.bench.js --help` explains the phases.
 */
import type { StoredToolEvent } from '@toolpath/event-store';
import { EventPublisher } from '@toolpath/sdk';
import { createTestEventsStream, testUrls } from '@toolpath/testing';
import { RECORDER_CONSUMER, eventKey } from '@toolpath/contracts';
import { parseCli } from './lib/cli';
import { BENCH_TENANT, benchEventInput, encodeBenchEvent, storedRow } from './lib/events';
import { CpuShare } from './lib/machine';
import {
  Cleanup,
  connectInfra,
  describeInfra,
  histogramQuantiles,
  phaseNames,
  preparedEventsCollection,
  progress,
  publishAll,
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
import { Report, quantile } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/latency.bench.js',
  description: `
Per-event latency from EventPublisher.publish() to the row being readable in the database, at
half the maximum end-to-end throughput (a loaded but not saturated recorder):
 1. baseline: the same path without the pipeline, one event at a time: await js.publish (file
    stream) then await insertOne of its row (same indexes), on its own stream and database;
 2. maximum throughput: --probe-events through a recorder as fast as possible (skipped with --rate);
 3. paced run: a fresh recorder, events published at half that rate for --duration-s. Every
    event is timed from publish() until the recorder's consumer ack floor passes its stream
    sequence (the recorder acks only after the write, so this is an upper bound of "stored"),
    read from NATS every --poll-ms: polling the database instead slowed FerretDB's writes two-
    to threefold. Afterwards --read-back rows are read by _id: their receivedAt (set when the
    recorder took the batch, before the write) gives a lower bound.
Target: p50/p95/p99 <= RECORDER_BATCH_WINDOW_MS + 50 ms. The recorder's own histogram
toolpath_recorder_store_latency_seconds (stream receive -> durable) is shown as a cross-check.`,
  options: {
    rate: { kind: 'number', default: 0, help: 'paced rate in events/s (0: half the measured maximum)' },
    probeEvents: { kind: 'int', default: 20_000, help: 'events of the maximum-throughput probe' },
    durationS: { kind: 'number', default: 20, help: 'length of the paced run' },
    warmupS: { kind: 'number', default: 5, help: 'paced seconds before the measured --duration-s (a fresh recorder settles)' },
    pollMs: { kind: 'int', default: 5, help: "pause between two reads of the recorder consumer's ack floor" },
    readBack: { kind: 'int', default: 300, help: 'rows read back after the run for the lower bound' },
    baselineSamples: { kind: 'int', default: 200, help: 'events of the one-at-a-time baseline' },
    recorderEnv: { kind: 'pairs', help: 'setting passed to the recorder, e.g. RECORDER_BATCH_WINDOW_MS=20 (repeatable)' },
    maxMinutes: { kind: 'number', default: 15, help: 'abort (and clean up) after this long' },
  },
});

const QS = [0.5, 0.95, 0.99];

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'latency.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const windowMs = Number(cli.recorderEnv.RECORDER_BATCH_WINDOW_MS ?? 20);
  const targetMs = windowMs + 50;
  const report = new Report('latency', {
    rate: cli.rate || 'half of measured max',
    durationS: cli.durationS,
    warmupS: cli.warmupS,
    pollMs: cli.pollMs,
    recorderEnv: cli.recorderEnv,
  });
  try {
    report.setMachine(await describeInfra(infra));

    progress(`baseline: ${cli.baselineSamples} events one at a time (await publish, await insertOne)`);
    const base = await directPath(infra, cleanup, cli.baselineSamples);

    let rate = cli.rate;
    if (!rate) {
      progress(`maximum throughput: ${cli.probeEvents.toLocaleString('en-US')} events through a recorder`);
      const max = await probeMaxRate(infra, cleanup, cli.probeEvents, cli.recorderEnv, deadline);
      report.add({ name: 'max end-to-end throughput (probe)', value: max, unit: 'events/s', note: `${cli.probeEvents} events, first publish -> all durable` });
      rate = max / 2;
    }
    progress(`paced run: ${Math.round(rate)} events/s for ${cli.durationS} s`);
    const paced = await pacedRun(infra, cleanup, rate, deadline);

    report.add({ name: 'paced publish rate', value: paced.achievedRate, unit: 'events/s', note: `asked for ${Math.round(rate)}/s; ${paced.published} events` });
    const lat = paced.latenciesMs;
    QS.forEach((q, i) => {
      report.add({
        name: `publish -> stored p${q * 100}`,
        value: quantile(lat, q),
        unit: 'ms',
        baseline: { name: `one publish + one insertOne p${q * 100}`, value: base[i], unit: 'ms' },
        target: { on: 'value', op: '<=', value: targetMs },
        note: i === 0 ? `every event of the ${cli.durationS} s after the ${cli.warmupS} s warm-up (${lat.length}); upper bound: until the recorder's ack, which follows the write` : undefined,
      });
    });
    const h = paced.histogram;
    QS.forEach((q, i) =>
      report.add({
        name: `recorder histogram p${q * 100}`,
        value: h.quantiles[i] * 1000,
        unit: 'ms',
        target: { on: 'value', op: '<=', value: targetMs },
        note: i === 0 ? `toolpath_recorder_store_latency_seconds (stream receive -> durable), ${h.count} events after the warm-up, interpolated in buckets 10/25/50/100/250 ms ...` : undefined,
      }),
    );
    const rcv = paced.receivedMs;
    report.note(
      `lower bound, publish -> recorder received (row's receivedAt, ${rcv.length} rows read back after the run): ` +
        `p50 ${quantile(rcv, 0.5).toFixed(0)} ms, p95 ${quantile(rcv, 0.95).toFixed(0)} ms, p99 ${quantile(rcv, 0.99).toFixed(0)} ms` +
        (paced.seqMismatches ? `; WARNING: ${paced.seqMismatches} rows had an unexpected streamSeq, so the ack-floor timing is approximate` : '; stream sequences as expected'),
    );
    report.note(
      `max ${lat[lat.length - 1]?.toFixed(0)} ms; ${paced.unseen} events not acked in time; ack floor read every ${cli.pollMs} ms, ` +
        `median bracket ${paced.medianBracketMs.toFixed(1)} ms`,
    );
    report.note(`${paced.published} events published in the paced run, ${paced.stored} stored by the recorder`);
    report.note(`target = RECORDER_BATCH_WINDOW_MS (${windowMs}) + 50 ms = ${targetMs} ms`);
    report.note(`recorder batches after the warm-up: ${JSON.stringify(paced.batches)}`);
    report.note(`latency by second of the paced run (warm-up included): ${paced.bySecond.map((b) => `${b.second}s:${b.p50}/${b.max}`).join(' ')} (p50/max ms)`);
    report.note(`CPU cores used during the paced run (1.0 = one full core; "others" = processes outside the bench): ${JSON.stringify(paced.cpuShare)}`);
    report.details.latencyBySecond = paced.bySecond;
    report.details.cpuCoresUsed = paced.cpuShare;
    report.print();
    report.write(cli.json);
  } finally {
    await cleanup.run();
  }
}

/** One event at a time, no pipeline: what a publish plus a write cost by themselves. */
async function directPath(infra: Infra, cleanup: Cleanup, n: number): Promise<number[]> {
  const names = phaseNames('benchlatbase', infra, cleanup);
  await createTestEventsStream(infra.nc, names, { storage: 'file' });
  const col = await preparedEventsCollection(infra.mongo.db(names.mongoDb));
  const js = infra.nc.jetstream();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = encodeBenchEvent(i, names.token, names.subjectPrefix);
    const t0 = performance.now();
    const ack = await js.publish(e.subject, e.data, { msgID: e.msgId, timeout: 5000 });
    await col.insertOne(storedRow(e.data, ack.seq, new Date()));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return QS.map((q) => quantile(times, q));
}

async function probeMaxRate(infra: Infra, cleanup: Cleanup, n: number, recorderEnv: Record<string, string>, deadline: number): Promise<number> {
  const names = phaseNames('benchlatmax', infra, cleanup);
  const recorder = await startRecorder(names, recorderEnv, cleanup);
  const pub = publishAll(names, n, deadline);
  cleanup.add('close probe publisher', () => pub.publisher.close());
  const publishFailed = pub.done.then(() => new Promise<never>(() => undefined));
  const storedAt = await Promise.race([waitStored(recorder, n, { deadline, label: 'probe', startedAt: performance.now(), publishing: () => !pub.finished }), publishFailed]);
  await pub.done;
  await pub.publisher.close();
  await recorder.stop();
  return n / ((storedAt - pub.firstPublishAt) / 1000);
}

/**
 * Publishes at `rate` for --duration-s and times every event. The recorder acknowledges a message
 * only after its row was written, and one SDK publisher on one connection makes stream sequence
 * i+1 hold event i, so the moment the consumer's ack floor passes i+1 is an upper bound of event
 * i's stored time: read from NATS every --poll-ms, it costs the database nothing (lookups by _id
 * while the recorder writes slowed FerretDB's writes two- to threefold here). After the run, a
 * sample of rows is read back: `receivedAt` (set when the recorder decoded the batch, before
 * the write) gives the lower bound, and `streamSeq` checks the sequence mapping.
 */
async function pacedRun(infra: Infra, cleanup: Cleanup, rate: number, deadline: number) {
  const names = phaseNames('benchlat', infra, cleanup);
  const recorder = await startRecorder(names, cli.recorderEnv, cleanup);
  const col = infra.mongo.db(names.mongoDb).collection<StoredToolEvent>('tool_events');
  const jsm = await infra.nc.jetstreamManager();
  const publisher = EventPublisher.connect({ servers: testUrls.nats, tenantId: BENCH_TENANT, subjectPrefix: names.subjectPrefix, name: 'toolpath-bench-latency' });
  cleanup.add('close latency publisher', () => publisher.close());
  await publisher.ready(10_000);

  await waitForRecorderIndexes(infra.mongo.db(names.mongoDb), deadline);
  const durationMs = (cli.warmupS + cli.durationS) * 1000;
  const total = Math.ceil((cli.warmupS + cli.durationS) * rate);
  const publishedAt = new Float64Array(total);
  const storedBy = new Float64Array(total);
  const bracket = new Float64Array(total);
  const ids: string[] = new Array<string>(total);
  let sent = 0;
  let publishing = true;

  const watcher = (async () => {
    let floor = 0;
    let askedAt = performance.now();
    while ((publishing || floor < sent) && performance.now() < deadline) {
      const asking = performance.now();
      const info = await jsm.consumers.info(names.stream, RECORDER_CONSUMER).catch(() => undefined);
      const now = performance.now();
      const next = Math.min(info?.ack_floor.stream_seq ?? floor, sent);
      for (let seq = floor + 1; seq <= next; seq++) {
        storedBy[seq - 1] = now;
        bracket[seq - 1] = now - Math.max(askedAt, publishedAt[seq - 1]);
      }
      if (next > floor) floor = next;
      askedAt = asking;
      await sleep(cli.pollMs);
    }
  })();

  const cpu = new CpuShare({ bench: process.pid, recorder: recorder.proc.pid, ...serverPids() });
  const t0 = performance.now();
  let lastReport = t0;
  let atWarmupEnd: Promise<Map<string, number>> | undefined;
  while (sent < total && performance.now() - t0 < durationMs + 1000) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    for (; sent < due; sent++) {
      publishedAt[sent] = performance.now();
      ids[sent] = publisher.publish(benchEventInput(sent, names.token));
    }
    const now = performance.now();
    if (!atWarmupEnd && now - t0 >= cli.warmupS * 1000) atWarmupEnd = scrapeMetrics(recorder.port);
    if (now - lastReport > 5000) {
      progress(`paced: ${sent.toLocaleString('en-US')} published`);
      lastReport = now;
    }
    await sleep(1);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpuShare = cpu.finish();
  publishing = false;
  await publisher.flush(30_000);
  await watcher;
  await waitStored(recorder, sent, { deadline, label: 'paced', startedAt: t0 });
  const metrics = await scrapeMetrics(recorder.port);
  const stored = metrics.get(STORED_METRIC) ?? 0;
  const warmMetrics = (await atWarmupEnd) ?? new Map<string, number>();
  const measured = new Map([...metrics].map(([k, v]) => [k, v - (warmMetrics.get(k) ?? 0)]));
  await publisher.close();

  const warmFrom = Math.min(sent, Math.floor(cli.warmupS * rate));
  const latenciesMs: number[] = [];
  const brackets: number[] = [];
  let unseen = 0;
  for (let i = warmFrom; i < sent; i++) {
    if (storedBy[i] === 0) unseen++;
    else {
      latenciesMs.push(storedBy[i] - publishedAt[i]);
      brackets.push(bracket[i]);
    }
  }
  latenciesMs.sort((a, b) => a - b);
  brackets.sort((a, b) => a - b);

  // Lower bound and mapping check, read after the run so that the reads disturb nothing.
  const received: number[] = [];
  let seqMismatches = 0;
  const step = Math.max(1, Math.floor((sent - warmFrom) / cli.readBack));
  for (let i = warmFrom; i < sent; i += step) {
    const row = await col.findOne({ _id: eventKey(BENCH_TENANT, ids[i]) }, { projection: { receivedAt: 1, streamSeq: 1 } });
    if (!row) continue;
    if (row.streamSeq !== i + 1) seqMismatches++;
    received.push(row.receivedAt.getTime() - (performance.timeOrigin + publishedAt[i]));
  }
  received.sort((a, b) => a - b);

  const bySecond: Array<{ second: number; p50: number; max: number }> = [];
  for (let sec = 0; sec * rate < sent; sec++) {
    const inSec: number[] = [];
    for (let i = Math.floor(sec * rate); i < Math.min(sent, Math.floor((sec + 1) * rate)); i++) if (storedBy[i]) inSec.push(storedBy[i] - publishedAt[i]);
    inSec.sort((a, b) => a - b);
    if (inSec.length) bySecond.push({ second: sec, p50: Math.round(quantile(inSec, 0.5)), max: Math.round(inSec[inSec.length - 1]) });
  }
  return {
    published: sent,
    stored,
    achievedRate: sent / elapsed,
    latenciesMs,
    receivedMs: received,
    seqMismatches,
    unseen,
    medianBracketMs: quantile(brackets, 0.5),
    histogram: histogramQuantiles(measured, 'toolpath_recorder_store_latency_seconds', QS),
    batches: recorderBatchStats(measured),
    bySecond,
    cpuShare,
  };
}

main().catch((err: unknown) => {
  console.error(`latency.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
