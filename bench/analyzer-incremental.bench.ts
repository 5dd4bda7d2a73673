/**
 * End to end: an incremental analyzer run over --new events on top of --events, in the real
 * analyzer process, beside a bare JetStream read of the same new events.
 * `node bench/dist/analyzer-incremental.bench.js --help` explains the phases.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { AckPolicy, DeliverPolicy, type JetStreamClient, type NatsConnection, type PubAck } from 'nats';
import { ANALYZER_CONSUMER, Collections, eventsSubjectFilter, type AnalyzerRunView, type ToolEventInput } from '@toolpath/contracts';
import type { MiningEvent } from '@toolpath/mining';
import { buildEvent, encodeEvent } from '@toolpath/sdk';
import { isolatedEnv, startService, type ServiceProcess, type TestNames } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { BENCH_TENANT } from './lib/events';
import { CpuShare, peakRssBytes } from './lib/machine';
import { Cleanup, askAnalyzer, connectInfra, describeInfra, phaseNames, progress, serverPids, sleep, type Infra } from './lib/pipeline';
import { Report, quantile } from './lib/report';
import { SyntheticLogs } from './lib/synthetic-logs';

const cli = parseCli({
  usage: 'node bench/dist/analyzer-incremental.bench.js',
  description: `
The analyzer as a process (apps/analyzer/dist, started like the e2e tests, schedule off), on its
own stream (file, 8 GiB limit), subject prefix, database and lock key:
 1. backlog: --events synthetic events (bench/lib/synthetic-logs.ts: planted workflows, noise,
    failures, ~11 events a session) published with raw js.publish, encoded exactly as the SDK
    does (buildEvent + encodeEvent, Nats-Msg-Id), --window acks in flight;
 2. first run: one incremental run over the whole backlog, requested over NATS request/reply
    (analyzer.runs.start) and followed through the analyzer consumer's ack floor until it ends;
 3. --rounds rounds of: publish --new more events (continuing the same sessions' generator);
    baseline: read those events with a bare JetStream pull consumer (ephemeral, starting at
    their first sequence, no acks, fetches of ANALYZER_FETCH_BATCH); then request an
    incremental run and time it from request to reply (waitMs large enough: the reply comes when
    the run ended). Figure: the median over the rounds, target <= 1 s. Before the first round, an
    empty run waits out the first run's compaction (done after it answered, under the lock).
The run's own phases (prepare, read, decode, count, persist, ack, quiet, after) come from its row
in analyzer_runs. Peak RSS of the analyzer is VmHWM of /proc/<pid>/status. The 1-minute load
average is printed beside each figure: the machine may be shared.
Profiling: --cpu-prof-dir DIR writes the analyzer's CPU profile there when it stops (Node refuses
--cpu-prof in NODE_OPTIONS: bench/lib/cpu-profile-preload.ts is required instead).`,
  options: {
    events: { kind: 'int', default: 1_000_000, help: 'backlog events (first run)' },
    new: { kind: 'int', default: 10_000, help: 'new events per incremental round' },
    rounds: { kind: 'int', default: 5, help: 'incremental rounds (each with its own new events)' },
    window: { kind: 'int', default: 2000, help: 'publish acks in flight' },
    seed: { kind: 'int', default: 7, help: 'synthetic log seed' },
    analyzerNodeOptions: { kind: 'string', default: '', help: "the analyzer's NODE_OPTIONS (e.g. --max-old-space-size=2048)" },
    cpuProfDir: { kind: 'string', default: '', help: "write the analyzer's CPU profile (.cpuprofile) into this directory" },
    analyzerEnv: { kind: 'pairs', help: 'setting passed to the analyzer, e.g. ANALYZER_PERSIST_EVERY=20000 (repeatable)' },
    firstRunMinutes: { kind: 'number', default: 20, help: 'bound on the first (backlog) run' },
    maxMinutes: { kind: 'number', default: 40, help: 'abort (and clean up) after this long' },
  },
});

const MB = 2 ** 20;
/** Streams of this size hold a million events (~700 MB) with room to spare (see BENCH_STREAM_MAX_BYTES). */
const STREAM_MAX_BYTES = 8 * 1024 ** 3;
const FETCH_BATCH = 1000;

interface RunRow {
  _id: string;
  status: string;
  durationMs: number | null;
  eventsRead: number;
  invalidEvents: number;
  alreadyCounted: number;
  phases?: Record<string, number>;
  tenants: Record<string, { events: number; sessionsClosed: number; patterns: number; patternsChanged: number }>;
  error?: string;
}

/** NODE_OPTIONS (and the profiler's directory) of the spawned analyzer. */
function analyzerNodeEnv(): Record<string, string> {
  const opts = [cli.analyzerNodeOptions];
  const env: Record<string, string> = {};
  if (cli.cpuProfDir) {
    opts.push(`--require ${resolve(__dirname, 'lib', 'cpu-profile-preload.js')}`);
    env.TOOLPATH_CPU_PROF_DIR = resolve(cli.cpuProfDir);
  }
  const joined = opts.filter(Boolean).join(' ');
  return joined ? { ...env, NODE_OPTIONS: joined } : env;
}

function load1(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}


/** A synthetic event as a producer would hand it to the SDK. */
function toInput(e: MiningEvent): ToolEventInput {
  const common = {
    sessionId: e.sessionId,
    startedAt: e.startedAt,
    durationMs: e.durationMs,
    success: e.success,
    source: 'bench',
    ...(e.seq !== undefined ? { seq: e.seq } : {}),
    ...(e.intent !== undefined ? { intent: e.intent } : {}),
    ...(e.userId !== undefined ? { userId: e.userId } : {}),
    ...(e.agentId !== undefined ? { agentId: e.agentId } : {}),
  };
  if (e.kind === 'session_end') return { ...common, kind: 'session_end' } as ToolEventInput;
  return {
    ...common,
    kind: 'tool_call',
    tool: e.tool!,
    ...(e.parameters !== undefined ? { parameters: e.parameters } : {}),
    ...(e.result !== undefined ? { result: e.result } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
  } as ToolEventInput;
}

/**
 * Publishes the next `n` events of `source` with js.publish (SDK encoding, de-duplication id), at
 * most `window` unacknowledged; returns the stream sequences of the first and last.
 */
async function publishNext(js: JetStreamClient, names: TestNames, source: Iterator<MiningEvent>, n: number, window: number, deadline: number): Promise<{ published: number; firstSeq: number; lastSeq: number }> {
  const inFlight = new Set<Promise<void>>();
  let firstSeq = Infinity;
  let lastSeq = 0;
  let published = 0;
  let failure: Error | undefined;
  let lastReport = performance.now();
  for (let i = 0; i < n; i++) {
    const r = source.next();
    if (r.done) throw new Error(`the synthetic log ran out after ${published} events`);
    const enc = encodeEvent(buildEvent(toInput(r.value), { tenantId: BENCH_TENANT }), names.subjectPrefix);
    const p: Promise<void> = js.publish(enc.subject, enc.data, { msgID: enc.msgId, timeout: 30_000 }).then(
      (ack: PubAck) => {
        if (ack.duplicate) failure ??= new Error(`event ${enc.msgId} was taken for a duplicate`);
        if (ack.seq < firstSeq) firstSeq = ack.seq;
        if (ack.seq > lastSeq) lastSeq = ack.seq;
        published++;
        inFlight.delete(p);
      },
      (err: Error) => {
        failure ??= err;
        inFlight.delete(p);
      },
    );
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
    if (failure) throw failure;
    if (performance.now() > deadline) throw new Error('publishing did not finish in time');
    if (n >= 100_000 && performance.now() - lastReport > 5000) {
      progress(`published ${published.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} (load ${load1()})`);
      lastReport = performance.now();
    }
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { published, firstSeq, lastSeq };
}

/** The baseline: a bare pull consumer reads stream sequences from..to (no decoding, no acks). */
async function bareRead(nc: NatsConnection, names: TestNames, from: number, to: number): Promise<number> {
  const jsm = await nc.jetstreamManager();
  const t0 = performance.now();
  const info = await jsm.consumers.add(names.stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
    filter_subject: eventsSubjectFilter(names.subjectPrefix),
    inactive_threshold: 60_000 * 1_000_000,
  });
  const consumer = await nc.jetstream().consumers.get(names.stream, info.name);
  let got = 0;
  let bytes = 0;
  const want = to - from + 1;
  while (got < want) {
    const msgs = await consumer.fetch({ max_messages: Math.min(FETCH_BATCH, want - got), expires: 2000 });
    let batch = 0;
    for await (const m of msgs) {
      bytes += m.data.byteLength;
      batch++;
    }
    got += batch;
    if (batch === 0) throw new Error(`bare read: stream ran dry after ${got} of ${want}`);
  }
  const ms = performance.now() - t0;
  await jsm.consumers.delete(names.stream, info.name).catch(() => undefined);
  if (bytes === 0) throw new Error('bare read: no bytes');
  return ms;
}


async function runRow(infra: Infra, names: TestNames, id: string): Promise<RunRow> {
  const row = await infra.mongo.db(names.mongoDb).collection<RunRow>(Collections.analyzerRuns).findOne({ _id: id });
  if (!row) throw new Error(`run ${id} has no row in ${Collections.analyzerRuns}`);
  return row;
}

function phasesText(p: Record<string, number> | undefined): string {
  if (!p) return 'no phases recorded';
  return Object.entries(p)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');
}

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'analyzer-incremental.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('analyzer-incremental', {
    events: cli.events,
    new: cli.new,
    rounds: cli.rounds,
    seed: cli.seed,
    window: cli.window,
    analyzerEnv: cli.analyzerEnv,
    ...(cli.analyzerNodeOptions ? { analyzerNodeOptions: cli.analyzerNodeOptions } : {}),
  });
  try {
    report.setMachine(await describeInfra(infra));
    const names = phaseNames('benchanainc', infra, cleanup);
    const analyzer: ServiceProcess = await startService('analyzer', {
      ...isolatedEnv(names),
      ANALYZER_SCHEDULE: 'off',
      TOOLPATH_EVENTS_MAX_BYTES: String(STREAM_MAX_BYTES),
      TOOLPATH_EVENTS_MAX_AGE_HOURS: '24',
      LOG_LEVEL: 'warn',
      ...analyzerNodeEnv(),
      ...cli.analyzerEnv,
    });
    cleanup.add('stop analyzer', () => analyzer.stop(60_000));
    const pid = analyzer.proc.pid!;

    // Sessions average ~11 events: generate enough, stop at the budget.
    const logs = new SyntheticLogs({ seed: cli.seed, tenantId: BENCH_TENANT, sessions: Math.ceil((cli.events + cli.new * cli.rounds) / 5), workflows: 30, noiseTools: 200 });
    const source = logs.events()[Symbol.iterator]();
    const js = infra.nc.jetstream();

    // 1. backlog
    progress(`publishing ${cli.events.toLocaleString('en-US')} events (load ${load1()})`);
    let t = performance.now();
    const backlog = await publishNext(js, names, source, cli.events, cli.window, deadline);
    const publishS = (performance.now() - t) / 1000;
    report.note(`backlog published in ${publishS.toFixed(1)} s (${Math.round(backlog.published / publishS).toLocaleString('en-US')} events/s, stream seq ${backlog.firstSeq}..${backlog.lastSeq})`);

    // 2. first run over the backlog
    const loadFirst = load1();
    progress(`first run over ${cli.events.toLocaleString('en-US')} events (load ${loadFirst})`);
    const firstDeadline = Math.min(deadline, performance.now() + cli.firstRunMinutes * 60_000);
    const cpuFirst = new CpuShare({ analyzer: pid, ...serverPids() });
    t = performance.now();
    const started = await askAnalyzer<AnalyzerRunView>(infra.nc, names, 'run', { tenantId: BENCH_TENANT, mode: 'incremental', waitMs: 2000 }, 30_000);
    const jsm = await infra.nc.jetstreamManager();
    let view = started;
    let lastReport = performance.now();
    while (view.status === 'running') {
      if (performance.now() > firstDeadline) throw new Error(`the first run did not end within ${cli.firstRunMinutes} min`);
      if (analyzer.proc.exitCode !== null) throw new Error(`analyzer exited (${analyzer.proc.exitCode}):\n${analyzer.output().slice(-3000)}`);
      await sleep(250);
      view = await askAnalyzer<AnalyzerRunView>(infra.nc, names, 'getRun', { tenantId: BENCH_TENANT, runId: started.id }, 10_000);
      if (performance.now() - lastReport > 5000) {
        const info = await jsm.consumers.info(names.stream, ANALYZER_CONSUMER).catch(() => undefined);
        const rss = peakRssBytes(pid);
        progress(`first run: acked through ${(info?.ack_floor.stream_seq ?? 0).toLocaleString('en-US')} of ${backlog.lastSeq.toLocaleString('en-US')}, peak RSS ${rss ? (rss / MB).toFixed(0) : '?'} MiB (load ${load1()})`);
        lastReport = performance.now();
      }
    }
    const firstWallMs = performance.now() - t;
    const cpuFirstShare = cpuFirst.finish();
    if (view.status !== 'completed') throw new Error(`the first run ended ${view.status}: ${view.error ?? ''}`);
    const first = await runRow(infra, names, started.id);
    if (first.eventsRead !== cli.events) throw new Error(`the first run read ${first.eventsRead} events, expected ${cli.events}`);
    const firstShare = first.tenants[BENCH_TENANT];
    report.add({
      name: `first run: ${cli.events.toLocaleString('en-US')} events (incremental from empty)`,
      value: (first.durationMs ?? firstWallMs) / 1000,
      unit: 's',
      note: `run's own duration; request -> seen ended ${(firstWallMs / 1000).toFixed(1)} s (polled every 250 ms); load ${loadFirst} at start, ${load1()} at end; ms by phase: ${phasesText(first.phases)}; ${firstShare?.sessionsClosed ?? 0} sessions closed, ${firstShare?.patterns ?? 0} patterns listed; CPU cores used ${JSON.stringify(cpuFirstShare)}`,
    });
    report.details.firstRun = { ...first, cpuCoresUsed: cpuFirstShare, loadAtStart: loadFirst };

    // The first run compacts and deletes what it superseded after answering, under the lock: an
    // empty run waits for that, so the rounds measure the steady state.
    t = performance.now();
    const settle = await askAnalyzer<AnalyzerRunView>(infra.nc, names, 'run', { tenantId: BENCH_TENANT, mode: 'incremental', waitMs: 300_000 }, 310_000);
    const settleMs = performance.now() - t;
    if (settle.status !== 'completed' || settle.eventsRead !== 0) throw new Error(`the settling run ended ${settle.status} after reading ${settle.eventsRead} events`);
    report.note(`after the first run answered, its compaction and blob clean-up held the lock ~${(settleMs / 1000).toFixed(1)} s more (an empty run requested then answered after ${settleMs.toFixed(0)} ms; load ${load1()})`);
    report.details.settleMs = Math.round(settleMs);

    // 3. incremental rounds
    const runMs: number[] = [];
    const baseMs: number[] = [];
    const rounds: Array<Record<string, unknown>> = [];
    for (let round = 1; round <= cli.rounds; round++) {
      const pub = await publishNext(js, names, source, cli.new, cli.window, deadline);
      const loadBase = load1();
      const base = await bareRead(infra.nc, names, pub.firstSeq, pub.lastSeq);
      await sleep(200);
      const loadRun = load1();
      const cpu = new CpuShare({ analyzer: pid, ...serverPids() });
      const t0 = performance.now();
      const run = await askAnalyzer<AnalyzerRunView>(infra.nc, names, 'run', { tenantId: BENCH_TENANT, mode: 'incremental', waitMs: 120_000 }, 130_000);
      const ms = performance.now() - t0;
      const cpuShare = cpu.finish();
      if (run.status !== 'completed') throw new Error(`incremental run ${round} ended ${run.status}: ${run.error ?? ''}`);
      if (run.eventsRead !== cli.new) throw new Error(`incremental run ${round} read ${run.eventsRead} events, expected ${cli.new}`);
      const row = await runRow(infra, names, run.id);
      runMs.push(ms);
      baseMs.push(base);
      rounds.push({ round, requestToReplyMs: Math.round(ms), runDurationMs: row.durationMs, bareReadMs: Math.round(base), phases: row.phases, tenant: row.tenants[BENCH_TENANT], loadAtBaseline: loadBase, loadAtRun: loadRun, cpuCoresUsed: cpuShare });
      progress(`round ${round}: run ${ms.toFixed(0)} ms (own ${row.durationMs} ms: ${phasesText(row.phases)}), bare read ${base.toFixed(0)} ms, load ${loadRun}`);
    }
    const sortedRun = [...runMs].sort((a, b) => a - b);
    const sortedBase = [...baseMs].sort((a, b) => a - b);
    const median = quantile(sortedRun, 0.5);
    const medianRound = rounds[runMs.indexOf(median)];
    report.add({
      name: `incremental run: ${cli.new.toLocaleString('en-US')} new events on top of ${cli.events.toLocaleString('en-US')} (median of ${cli.rounds}, request -> reply)`,
      value: median,
      unit: 'ms',
      baseline: { name: `bare JetStream pull of the same ${cli.new.toLocaleString('en-US')} events, median`, value: quantile(sortedBase, 0.5), unit: 'ms' },
      target: { on: 'value', op: '<=', value: 1000 },
      note: `rounds, request -> reply (run's own duration) ms: ${rounds.map((r) => `${String(r.requestToReplyMs)} (${String(r.runDurationMs)})`).join(', ')}; a reply later than the run's own time waited for the previous run's compaction and blob clean-up (done after it answered, under the lock); median round: ms by phase ${phasesText(medianRound.phases as Record<string, number>)}; load ${rounds.map((r) => r.loadAtRun).join(', ')} at each run`,
    });
    report.add({ name: 'incremental run: worst round', value: sortedRun[sortedRun.length - 1], unit: 'ms', baseline: { name: 'bare pull, worst', value: sortedBase[sortedBase.length - 1], unit: 'ms' } });
    const rss = peakRssBytes(pid);
    report.add({ name: 'analyzer peak RSS (VmHWM)', value: (rss ?? 0) / MB, unit: 'MiB', target: { on: 'value', op: '<=', value: 1536 }, note: `after the first run and ${cli.rounds} rounds; the 1.5 GB bound of the mining figure` });
    const patterns = await askAnalyzer<{ items: Array<{ tools: string[]; support: number }> }>(infra.nc, names, 'listPatterns', { tenantId: BENCH_TENANT, limit: 200 }, 30_000);
    const planted = logs.workflows.filter((w) => patterns.items.some((p) => w.tools.every((tool) => p.tools.includes(tool)))).length;
    report.note(`${patterns.items.length} patterns on the first page (limit 200); ${planted} of ${logs.workflows.length} planted workflows among them (all their tools in one pattern) — a sanity check, bench/learning measures recovery`);
    report.note(`1-minute load average: ${report.toJson().machine.loadAvgAtStart} at start, ${load1()} at the end (2 cores: above 2, other work competed)`);
    report.details.rounds = rounds;
    const state = await infra.mongo
      .db(names.mongoDb)
      .collection<{ _id: string; snapshot?: { bytes: number } | null; journal?: Array<{ bytes: number }>; open?: { bytes: number } | null; openChanges?: Array<{ bytes: number }>; openSessions?: number }>(Collections.analyzerState)
      .findOne({ _id: BENCH_TENANT });
    if (state) {
      const stored = {
        snapshotBytes: state.snapshot?.bytes ?? 0,
        journalEntries: state.journal?.length ?? 0,
        journalBytes: (state.journal ?? []).reduce((n, r) => n + r.bytes, 0),
        openBytes: state.open?.bytes ?? 0,
        openChangeRecords: state.openChanges?.length ?? 0,
        openChangeBytes: (state.openChanges ?? []).reduce((n, r) => n + r.bytes, 0),
        openSessions: state.openSessions ?? 0,
      };
      report.details.storedState = stored;
      report.note(
        `stored state: snapshot ${(stored.snapshotBytes / MB).toFixed(1)} MiB, journal ${stored.journalEntries} entries ${(stored.journalBytes / MB).toFixed(2)} MiB, open sessions ${stored.openSessions} (base ${(stored.openBytes / 1024).toFixed(0)} KiB + ${stored.openChangeRecords} change records ${(stored.openChangeBytes / 1024).toFixed(0)} KiB)`,
      );
    }
    report.print();
    report.write(cli.json);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(`analyzer-incremental.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
