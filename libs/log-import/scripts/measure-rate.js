#!/usr/bin/env node
/*
 * Import rate of toolpath-import beside a bare EventPublisher loop publishing the same events, on
 * the nats-server at NATS_URL (build first: npx tsc -b tsconfig.build.json).
 *
 *   node libs/log-import/scripts/measure-rate.js [--rows N] [--rounds R] [--json FILE]
 *
 * (a) Baseline: the events the importer would send (captured from a dry pass over the same file)
 *     are built in memory first; the timed part is only `publish()` for each (yielding to the
 *     event loop every 1024) and the final `flush()`, with a buffer that holds them all.
 * (b) Import: `runCli` on the CSV file — reading, parsing, mapping, publishing with its bounded
 *     window, and waiting for every acknowledgement; the figure is its own duration.
 * (a') The same prebuilt events through the importer's window (PublishingSink): what the import
 *     costs beyond publishing is reading, parsing and mapping.
 * All publish to a fresh file-storage stream per round (deleted afterwards) on one server;
 * rounds alternate and each figure is the median.
 */
const { createWriteStream, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { cpus, loadavg, tmpdir, totalmem } = require('node:os');
const { join } = require('node:path');
const { EventPublisher } = require('@toolpath/sdk');
const { runCli, runImport, readCsvLog, createTimestampParser, createOutcomeInterpreter, openLogFile, PublishingSink, publisherBufferFor } = require('@toolpath/log-import');
const { connectTestNats, createTestEventsStream, deleteTestStream, isolatedEnv, testNames } = require('@toolpath/testing');

const USAGE = `usage: measure-rate.js [--rows N] [--rounds R] [--json FILE]
  --rows N     CSV rows (activities) to import (default 100000; one case per 20 rows)
  --rounds R   measured rounds of each mode, median reported (default 3)
  --json FILE  also write the figures as JSON`;

function parseArgs(argv) {
  const args = { rows: 100_000, rounds: 3, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const value = argv[++i];
    if (value === undefined) fail(`${flag} needs a value`);
    if (flag === '--rows' || flag === '--rounds') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) fail(`${flag} must be a positive integer`);
      args[flag.slice(2)] = n;
    } else if (flag === '--json') args.json = value;
    else fail(`unknown argument ${flag}`);
  }
  return args;
}

function fail(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function writeCsv(file, rows) {
  const cases = Math.max(1, Math.floor(rows / 20));
  await new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('error', reject);
    out.write('case,activity,timestamp,resource,outcome,amount\n');
    let i = 0;
    const more = () => {
      while (i < rows) {
        const line = `case-${i % cases},tool.step_${(i * 7) % 13},${1767600000000 + i * 1000},user-${i % 17},${i % 11 ? 'ok' : 'declined'},${i % 997}\n`;
        i++;
        if (!out.write(line)) return void out.once('drain', more);
      }
      out.end(resolve);
    };
    more();
  });
}

/** The exact inputs the importer publishes, captured without NATS. */
async function captureEvents(file) {
  const events = [];
  const sink = { send: (e) => void events.push(e), finish: async () => undefined, counts: () => ({ published: 0, duplicates: 0, dropped: 0 }) };
  const source = openLogFile(file);
  const items = readCsvLog(source.chunks, { mapping: {}, parseTimestamp: createTimestampParser(), interpretOutcome: createOutcomeInterpreter() });
  await runImport({ items, sink, sourceId: source.name });
  return events;
}

/** `windowed`: the same prebuilt events through the importer's own bounded window (no file, no parsing). */
async function baselineRound(nc, events, windowed = false) {
  const names = testNames('rate');
  await createTestEventsStream(nc, names, { storage: 'file' });
  try {
    const maxBuffer = windowed ? publisherBufferFor(2000) : events.length + 1;
    const publisher = new EventPublisher(nc, { tenantId: 'bench', subjectPrefix: names.subjectPrefix, maxBuffer });
    const sink = new PublishingSink(publisher, { window: 2000 });
    const t0 = performance.now();
    for (let i = 0; i < events.length; i++) {
      if (windowed) {
        const wait = sink.send(events[i]);
        if (wait) await wait;
      } else {
        publisher.publish(events[i]);
        if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
      }
    }
    await publisher.flush(120_000);
    const ms = performance.now() - t0;
    const s = publisher.stats();
    await publisher.close();
    if (s.published !== events.length) throw new Error(`baseline: ${s.published} of ${events.length} acknowledged`);
    return ms;
  } finally {
    await deleteTestStream(nc, names);
  }
}

async function importRound(nc, file, expected) {
  const names = testNames('rate');
  await createTestEventsStream(nc, names, { storage: 'file' });
  try {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--tenant', 'bench', '--quiet', '--json', file], isolatedEnv(names), {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    if (code !== 0) throw new Error(`import exited ${code}: ${stderr}`);
    const summary = JSON.parse(stdout);
    if (summary.published !== expected) throw new Error(`import: ${summary.published} of ${expected} acknowledged`);
    return summary.durationMs;
  } finally {
    await deleteTestStream(nc, names);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'import-rate-'));
  const nc = await connectTestNats();
  try {
    const file = join(dir, 'rate.csv');
    await writeCsv(file, args.rows);
    const events = await captureEvents(file);
    const machine = `${cpus()[0]?.model.trim()}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; nats-server ${nc.info?.version}; load avg at start ${loadavg()[0].toFixed(2)}`;
    console.log(`machine: ${machine}`);
    console.log(`${args.rows} rows → ${events.length} events (tool calls + session ends); ${args.rounds} rounds after a warm-up`);
    await baselineRound(nc, events.slice(0, 10_000));
    await importRound(nc, file, events.length).catch(() => undefined);
    const base = [];
    const win = [];
    const imp = [];
    for (let r = 0; r < args.rounds; r++) {
      base.push(await baselineRound(nc, events));
      win.push(await baselineRound(nc, events, true));
      imp.push(await importRound(nc, file, events.length));
      console.log(`  round ${r + 1}: bare publisher ${Math.round(base[r])} ms, same with the import's window ${Math.round(win[r])} ms, import ${Math.round(imp[r])} ms`);
    }
    const baseRate = (events.length * 1000) / median(base);
    const windowRate = (events.length * 1000) / median(win);
    const importRate = (events.length * 1000) / median(imp);
    const figures = {
      events: events.length,
      rows: args.rows,
      bareEventPublisherEventsPerSecond: Math.round(baseRate),
      windowedEventPublisherEventsPerSecond: Math.round(windowRate),
      importEventsPerSecond: Math.round(importRate),
      ratio: Math.round((importRate / baseRate) * 100) / 100,
      ratioToWindowed: Math.round((importRate / windowRate) * 100) / 100,
      loadAvgAtEnd: Math.round(loadavg()[0] * 100) / 100,
      machine,
    };
    console.log(`bare EventPublisher loop: ${figures.bareEventPublisherEventsPerSecond} events/s (events prebuilt in memory)`);
    console.log(`toolpath-import:          ${figures.importEventsPerSecond} events/s (read, parse, map, publish, all acked)`);
    console.log(`same, import's window:    ${figures.windowedEventPublisherEventsPerSecond} events/s (prebuilt, at most 2000 unacknowledged)`);
    console.log(`ratio import / bare:      ${figures.ratio}; import / windowed: ${figures.ratioToWindowed}`);
    console.log(`load avg at end:          ${figures.loadAvgAtEnd}`);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
