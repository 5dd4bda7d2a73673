/**
 * EventPublisher against a bare JetStream publish loop, on the real nats-server at NATS_URL.
 *
 *   node <outDir>/publish.bench.js [--events N] [--rounds R] [--yield-every K] [--json FILE]
 *
 * (a) Baseline: 256 concurrent async loops, each `await js.publish(subject, bytes, { msgID })` where
 *     bytes is JSON.stringify of the event: the same payload, the same Nats-Msg-Id header and the
 *     same in-flight window as the SDK, with no validation, buffering or retries.
 * (b) `EventPublisher.publish()` N times, then `flush()`; the caller cost is the time spent inside
 *     publish() calls only, divided by N.
 * Both modes share one connection and one temporary stream (file storage, deleted afterwards) and
 * build each input inside their loop. Rounds alternate between the modes after a warm-up, and each
 * figure is the median of the rounds. The whole run is bounded (TIME_LIMIT_MS).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { eventKey, eventsSubject, type ToolEventInput } from '@toolpath/contracts';
import { EventPublisher } from '@toolpath/sdk';
import { createTestEventsStream, deleteTestStream, testNames, testUrls, type TestNames } from '@toolpath/testing';

const IN_FLIGHT = 256;
const TENANT = 'bench';
const TIME_LIMIT_MS = 120_000;
const TARGET_CALLER_US = 20;
const TARGET_RATIO = 0.8;

interface Args {
  events: number;
  rounds: number;
  yieldEvery: number;
  json?: string;
}

const USAGE = `usage: publish.bench [--events N] [--rounds R] [--yield-every K] [--json FILE]

  --events N   events per measured run (default 100000)
  --rounds R   measured rounds of each mode; the median is reported (default 3)
  --yield-every K
               the SDK producer yields to the event loop every K events (default 1024;
               0 = never: all N publish() calls run before the first send, the worst case)
  --json FILE  also write the figures as JSON to FILE
  --help       show this text

NATS_URL (default nats://127.0.0.1:4222) must be a nats-server with JetStream.
The run aborts after ${TIME_LIMIT_MS / 1000} s.`;

function parseArgs(argv: string[]): Args {
  const args: Args = { events: 100_000, rounds: 3, yieldEvery: 1024 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--events') args.events = positiveInt(flag, value());
    else if (flag === '--rounds') args.rounds = positiveInt(flag, value());
    else if (flag === '--yield-every') args.yieldEvery = nonNegativeInt(flag, value());
    else if (flag === '--json') args.json = value();
    else fail(`unknown argument ${flag}`);
  }
  return args;
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) fail(`${flag} must be a positive integer, got ${raw}`);
  return n;
}

function nonNegativeInt(flag: string, raw: string): number {
  return raw === '0' ? 0 : positiveInt(flag, raw);
}

function fail(message: string): never {
  console.error(`publish.bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/**
 * One tracked call of typical shape and size. Both modes build it inside their loop, as a producer
 * would: building every input up front would keep them all alive and measure the GC instead.
 */
function makeInput(i: number, sessionId: string): ToolEventInput {
  return {
    kind: 'tool_call',
    sessionId,
    seq: i,
    tool: 'github.create_pull_request',
    parameters: { repo: 'acme/widgets', base: 'main', head: `feature-${i}`, title: 'Fix the flaky test', draft: false },
    result: { number: 1000 + i, url: `https://github.com/acme/widgets/pull/${1000 + i}`, state: 'open' },
    success: true,
    startedAt: new Date().toISOString(),
    durationMs: 123.456,
    source: 'bench',
  };
}

interface RunResult {
  eventsPerSec: number;
  callerUsPerEvent?: number;
}

/** (a) 256 async loops, each awaiting its own js.publish: a window of 256 acks outstanding. */
async function bareLoop(js: JetStreamClient, prefix: string, n: number, sessionId: string): Promise<RunResult> {
  const subject = eventsSubject(prefix, TENANT);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const event = { specVersion: '1', eventId: randomUUID(), tenantId: TENANT, ...makeInput(next++, sessionId) };
      const data = Buffer.from(JSON.stringify(event), 'utf8');
      await js.publish(subject, data, { msgID: eventKey(TENANT, event.eventId), timeout: 5000 });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, worker));
  return { eventsPerSec: n / ((performance.now() - t0) / 1000) };
}

/**
 * (b) publish() n times, then flush(). The caller yields to the event loop every `yieldEvery` events,
 * as a service does between requests, so sending overlaps with producing as it does in (a).
 * maxBuffer holds the whole run so that nothing is dropped while the producer runs ahead.
 */
async function sdkRun(nc: NatsConnection, prefix: string, n: number, sessionId: string, yieldEvery: number): Promise<RunResult> {
  const publisher = new EventPublisher(nc, { tenantId: TENANT, subjectPrefix: prefix, maxInFlight: IN_FLIGHT, maxBuffer: n });
  let callerMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const input = makeInput(i, sessionId);
    const before = performance.now();
    publisher.publish(input);
    callerMs += performance.now() - before;
    if (yieldEvery > 0 && i % yieldEvery === yieldEvery - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  await publisher.flush(TIME_LIMIT_MS);
  const seconds = (performance.now() - t0) / 1000;
  const stats = publisher.stats();
  await publisher.close();
  const lost = n - stats.published;
  if (lost !== 0) throw new Error(`EventPublisher lost ${lost} event(s): ${JSON.stringify(stats)}`);
  return { eventsPerSec: n / seconds, callerUsPerEvent: (callerMs * 1000) / n };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')).join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const nc = await connect({ servers: testUrls.nats, name: 'toolpath-publish-bench', noAsyncTraces: true, timeout: 5000 });
  const names: TestNames = testNames('pubbench');
  let finished = false;
  const timer = setTimeout(() => {
    if (finished) return;
    console.error(`publish.bench: aborted after ${TIME_LIMIT_MS / 1000} s (try fewer --events or --rounds)`);
    void deleteTestStream(nc, names).finally(() => process.exit(3));
    setTimeout(() => process.exit(3), 5000).unref();
  }, TIME_LIMIT_MS);

  try {
    await createTestEventsStream(nc, names, { storage: 'file' });
    const js = nc.jetstream();
    const sessionId = randomUUID();

    // Warm-up: JIT, connection buffers and the stream's first blocks.
    const warm = Math.min(10_000, args.events);
    await bareLoop(js, names.subjectPrefix, warm, sessionId);
    await sdkRun(nc, names.subjectPrefix, warm, sessionId, args.yieldEvery);

    // Alternating rounds, so that a busy moment on the machine hits both modes alike.
    const bare: RunResult[] = [];
    const sdk: RunResult[] = [];
    for (let round = 0; round < args.rounds; round++) {
      bare.push(await bareLoop(js, names.subjectPrefix, args.events, sessionId));
      sdk.push(await sdkRun(nc, names.subjectPrefix, args.events, sessionId, args.yieldEvery));
    }

    const bareEps = median(bare.map((r) => r.eventsPerSec));
    const sdkEps = median(sdk.map((r) => r.eventsPerSec));
    const callerUs = median(sdk.map((r) => r.callerUsPerEvent ?? 0));
    const bareUsPerEvent = 1e6 / bareEps;
    const throughputRatio = sdkEps / bareEps;
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      natsServer: nc.info?.version ?? 'unknown',
      platform: `${process.platform} ${process.arch}`,
    };
    const figures = {
      events: args.events,
      rounds: args.rounds,
      inFlight: IN_FLIGHT,
      payloadBytes: Buffer.byteLength(JSON.stringify({ specVersion: '1', eventId: randomUUID(), tenantId: TENANT, ...makeInput(0, sessionId) })),
      yieldEvery: args.yieldEvery,
      bare: { eventsPerSec: Math.round(bareEps), usPerEvent: round3(bareUsPerEvent) },
      sdk: { eventsPerSec: Math.round(sdkEps), callerUsPerEvent: round3(callerUs) },
      ratios: { throughput: round3(throughputRatio), callerCostVsBareLoop: round3(callerUs / bareUsPerEvent) },
      targets: {
        throughputRatio: TARGET_RATIO,
        callerUsPerEvent: TARGET_CALLER_US,
        met: throughputRatio >= TARGET_RATIO && callerUs <= TARGET_CALLER_US,
      },
      machine,
      at: new Date().toISOString(),
    };

    const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    console.log(
      `\nToolpath publish bench: ${args.events} events x ${args.rounds} round(s), median; window ${IN_FLIGHT}; ` +
        `~${figures.payloadBytes} B/event; SDK producer yields every ${args.yieldEvery || 'never'}`,
    );
    console.log(
      `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; node ${machine.node}; nats-server ${machine.natsServer}\n`,
    );
    console.log(
      formatTable([
        ['figure', 'EventPublisher', 'bare js.publish loop', 'ratio', 'target'],
        ['throughput (events/s)', fmt(sdkEps, 0), fmt(bareEps, 0), `${throughputRatio.toFixed(2)}x`, `>= ${TARGET_RATIO}x ${mark(throughputRatio >= TARGET_RATIO)}`],
        [
          'caller cost (us/event)',
          fmt(callerUs, 2),
          fmt(bareUsPerEvent, 2),
          `${(callerUs / bareUsPerEvent).toFixed(2)}x`,
          `<= ${TARGET_CALLER_US} us ${mark(callerUs <= TARGET_CALLER_US)}`,
        ],
      ]),
    );
    console.log(
      '\ncaller cost: time inside publish() only / N; its baseline is the bare loop\'s wall time per event (what awaiting js.publish costs a caller).',
    );
    if (args.json) {
      writeFileSync(args.json, `${JSON.stringify(figures, null, 2)}\n`);
      console.log(`figures written to ${args.json}`);
    }
  } finally {
    finished = true;
    clearTimeout(timer);
    await deleteTestStream(nc, names);
    await nc.drain();
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

main().catch((err: unknown) => {
  console.error(`publish.bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
