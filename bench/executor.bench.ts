/**
 * Executor overhead, latency, parallelism and scale-out, each beside a baseline measured in the
 * same run. `node bench/dist/executor.bench.js --help` explains the phases.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Queue, Worker, type Job } from 'bullmq';
import Redis from 'ioredis';
import { toolSubject } from '@toolpath/contracts';
import { repoRoot, type ServiceProcess } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { ExecutorClient, delayStep, median, r1, redisOptions, sortNum, startExecutor, transformRun, workflowOf, world } from './lib/executor-world';
import { CpuShare, settle } from './lib/machine';
import { Cleanup, connectInfra, describeInfra, progress, serverPids, sleep } from './lib/pipeline';
import { Report, quantile } from './lib/report';

const enc = new TextEncoder();

const cli = parseCli({
  usage: 'node bench/dist/executor.bench.js',
  description: `
The workflow executor (apps/executor), started as real processes (startService: the built
apps/executor/dist/main.js; build with npx tsc -b tsconfig.build.json). The bench process is the
client (NATS request/reply on executorSubjects) and watches the run/step updates the executor
publishes; it shares the machine, not the executor's process.
 1. no-op step latency: --latency-runs one-step runs of core.transform, one at a time, from the
    start request until the run's COMPLETED update; beside a direct call of TransformTool.call
    (the compiled built-in, in the bench process) and a bare BullMQ Queue.add -> Worker
    (concurrency --concurrency) -> 'completed' on the same Redis, the two alternating one by one.
    Start latency: request -> the step's RUNNING update. Then a step inside a run: --latency-runs
    runs of a -> b, from a's COMPLETED update to b's (alternating with bare BullMQ jobs).
 2. no-op step throughput, in --throughput-rounds rounds that alternate (so a burst of outside
    load hits all alike; each figure is the median of its rounds): the bare BullMQ worker with
    2 x --concurrency jobs in flight (closed loop), --throughput-runs/rounds one-step runs with
    as many runs in flight, and --wide-runs runs (one at a time; their median counts) of
    --wide-steps independent no-op steps. Before the rounds, --warmups unmeasured wide runs and
    bare closed loops warm both paths alike; each measured phase starts once the machine is quiet
    (under 0.3 cores busy, at most 3 s of waiting), so no phase pays for the previous one's leftovers.
    Then input size: --wide-runs wide runs with an input of --input-kib KiB, alternating with as
    many without one (a step must not pay for the size of its run's input).
 3. parallelism: three independent 100 ms core.delay steps (wall vs 100 ms of three setTimeouts
    in parallel) and an uneven DAG (a 100 -> c 50, b 200, d after c and b 50: critical path
    250 ms, vs the same DAG of setTimeouts), --dag-repeats times each.
 4. scale-out: runs of 8 steps calling a NATS tool provider (in the bench) that sleeps 50 ms,
    with EXECUTOR_CONCURRENCY=--scale-concurrency per executor so executors are the bottleneck:
    steps/s with two executor processes vs one, alternated --scale-repeats times.`,
  options: {
    concurrency: { kind: 'int', default: 32, help: 'EXECUTOR_CONCURRENCY of phases 1-3, and of the bare BullMQ worker' },
    latencyRuns: { kind: 'int', default: 300, help: 'measured one-at-a-time runs (after 30 warm-up runs)' },
    throughputRuns: { kind: 'int', default: 2000, help: 'runs of the closed-loop throughput phase (split over the rounds)' },
    throughputRounds: { kind: 'int', default: 5, help: 'alternating rounds of the throughput phase' },
    wideRuns: { kind: 'int', default: 3, help: 'wide runs per round (the round counts their median)' },
    inputKib: { kind: 'int', default: 64, help: 'size of the input (KiB) of the input-size phase: a wide run with it vs without' },
    warmups: { kind: 'int', default: 10, help: 'unmeasured wide runs and bare closed loops before the rounds (JIT warm-up of both paths)' },
    wideSteps: { kind: 'int', default: 200, help: 'independent no-op steps of the one wide run' },
    dagRepeats: { kind: 'int', default: 10, help: 'runs of each parallelism shape' },
    scaleRuns: { kind: 'int', default: 40, help: 'runs (8 steps each) per scale-out measurement' },
    scaleConcurrency: { kind: 'int', default: 4, help: 'EXECUTOR_CONCURRENCY in the scale-out phase' },
    scaleRepeats: { kind: 'int', default: 2, help: 'alternations of one vs two executors' },
    executorEnv: { kind: 'pairs', help: 'setting passed to every executor, e.g. EXECUTOR_SNAPSHOT_INTERVAL_MS=5000 (repeatable)' },
    maxMinutes: { kind: 'number', default: 15, help: 'abort (and clean up) after this long' },
  },
});


// ------------------------------------------------------------------------------------------------
// Baselines in the bench process

interface BuiltinLike {
  call(parameters: Record<string, unknown>, context?: unknown): Promise<unknown>;
}

async function directToolCall(n: number): Promise<number[]> {
  const load = createRequire(__filename);
  const mod = load(join(repoRoot, 'apps', 'executor', 'dist', 'tools', 'core.tools.js')) as { TransformTool: new () => BuiltinLike };
  const tool = new mod.TransformTool();
  const out: number[] = [];
  for (let i = 0; i < n + 100; i++) {
    const t0 = performance.now();
    await tool.call({ value: i });
    if (i >= 100) out.push(performance.now() - t0);
  }
  return sortNum(out);
}

/** A bare BullMQ queue and worker (no-op processor) on the same Redis, at the executor's concurrency. */
class RawBull {
  readonly queue: Queue;
  readonly worker: Worker;
  private readonly done = new Map<string, () => void>();
  private seq = 0;

  constructor(prefix: string, concurrency: number) {
    const connection = redisOptions();
    this.queue = new Queue('rawbench', { connection, prefix: `{${prefix}}` });
    this.worker = new Worker('rawbench', async (job: Job) => job.data as unknown, { connection, prefix: `{${prefix}}`, concurrency, autorun: true });
    this.worker.on('completed', (job: Job) => this.done.get(job.id!)?.());
  }

  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
    await this.queue.waitUntilReady();
  }

  /** add -> processed -> 'completed' in this process, in ms. */
  async one(): Promise<number> {
    const id = `j${++this.seq}`;
    const t0 = performance.now();
    const finished = new Promise<void>((resolve) => this.done.set(id, resolve));
    await this.queue.add('noop', { value: 1 }, { jobId: id, removeOnComplete: true, removeOnFail: true });
    await finished;
    this.done.delete(id);
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
  }
}

/** Runs `total` jobs of `one` with `inFlight` at a time; returns per second. */
async function closedLoop(total: number, inFlight: number, one: () => Promise<unknown>, deadline: number): Promise<{ perS: number; done: number; seconds: number }> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < total && performance.now() < deadline) {
      next++;
      await one();
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - t0) / 1000;
  return { perS: done / seconds, done, seconds };
}

/** The uneven DAG as plain timers: what a perfect executor would take. */
async function timerDag(): Promise<number> {
  const t0 = performance.now();
  const a = sleep(100).then(() => sleep(50));
  const b = sleep(200);
  await Promise.all([a, b]);
  await sleep(50);
  return performance.now() - t0;
}

async function timerParallel(): Promise<number> {
  const t0 = performance.now();
  await Promise.all([sleep(100), sleep(100), sleep(100)]);
  return performance.now() - t0;
}

// ------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'executor.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('executor', {
    concurrency: cli.concurrency,
    latencyRuns: cli.latencyRuns,
    throughputRuns: cli.throughputRuns,
    throughputRounds: cli.throughputRounds,
    wideSteps: cli.wideSteps,
    wideRuns: cli.wideRuns,
    warmups: cli.warmups,
    dagRepeats: cli.dagRepeats,
    scaleRuns: cli.scaleRuns,
    scaleConcurrency: cli.scaleConcurrency,
    executorEnv: cli.executorEnv,
  });
  try {
    report.setMachine(await describeInfra(infra));
    const redisInfo = await (async () => {
      const r = new Redis(redisOptions());
      try {
        return /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
      } finally {
        r.disconnect();
      }
    })();
    const load = createRequire(__filename);
    const bullVersion = (load('bullmq/package.json') as { version: string }).version;
    report.details.versions = { redis: redisInfo, bullmq: bullVersion };
    report.details.loadAvg = { start: loadavg().map((x) => Math.round(x * 100) / 100) };
    progress(`redis ${redisInfo}, bullmq ${bullVersion}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

    // --- 1. latency -------------------------------------------------------------------------------
    const names = await world('benchexec', infra, cleanup);
    progress(`starting an executor process (EXECUTOR_CONCURRENCY=${cli.concurrency})`);
    const exec = await startExecutor(names, { ...cli.executorEnv, EXECUTOR_CONCURRENCY: String(cli.concurrency) }, cleanup);
    const client = new ExecutorClient(infra, names);
    cleanup.add('unsubscribe updates', async () => client.close());
    await client.ready();

    progress('baseline: direct TransformTool.call');
    const direct = await directToolCall(10_000);

    const raw = new RawBull(names.queuePrefix, cli.concurrency);
    cleanup.add('close bare BullMQ', () => raw.close());
    await raw.ready();
    for (let i = 0; i < 30; i++) await raw.one();
    progress(`no-op step: 30 warm-up runs, then ${cli.latencyRuns} one at a time, alternating with as many bare BullMQ jobs`);
    for (let i = 0; i < 30; i++) await client.runOnce(transformRun(i));
    const rawLatRaw: number[] = [];
    const total: number[] = [];
    const replies: number[] = [];
    const running: number[] = [];
    let notCompleted = 0;
    const cpuLat = new CpuShare({ executor: exec.proc.pid, bench: process.pid, ...serverPids() });
    for (let i = 0; i < cli.latencyRuns && performance.now() < deadline; i++) {
      rawLatRaw.push(await raw.one());
      const r = await client.runOnce(transformRun(i));
      if (r.status !== 'COMPLETED') notCompleted++;
      total.push(r.total);
      replies.push(r.reply);
      if (r.running !== undefined) running.push(r.running);
    }
    const rawLat = sortNum(rawLatRaw);
    report.details.cpuLatencyPhase = cpuLat.finish();
    const tot = sortNum(total);
    const rep = sortNum(replies);
    const run = sortNum(running);
    if (notCompleted) report.note(`${notCompleted} latency runs did not complete`);
    /** The issue's targets for the overhead of a no-op step (p50 <= 5 ms, p99 <= 25 ms) on sorted samples. */
    const addStepOverhead = (name: string, samples: number[], bare: number[], note: (p: string, q: number) => string) => {
      for (const [q, target] of [
        [0.5, 5],
        [0.99, 25],
      ] as const) {
        const p = `p${q * 100}`;
        report.add({
          name: `${name} ${p}`,
          value: quantile(samples, q),
          unit: 'ms',
          baseline: { name: `bare BullMQ add -> completed ${p}`, value: quantile(bare, q), unit: 'ms' },
          target: { on: 'value', op: '<=', value: target },
          note: note(p, q),
        });
      }
    };
    addStepOverhead('no-op step: start -> COMPLETED', tot, rawLat, (p, q) =>
      q === 0.5
        ? `${tot.length} one-step core.transform runs one at a time, client-side (request sent -> run COMPLETED update received); direct TransformTool.call ${p} ${quantile(direct, q).toFixed(4)} ms`
        : `direct TransformTool.call ${p} ${quantile(direct, q).toFixed(4)} ms`,
    );
    report.add({
      name: 'no-op step: direct TransformTool.call p50',
      value: quantile(direct, 0.5),
      unit: 'ms',
      note: '10,000 awaited calls of the compiled built-in in the bench process (the floor a step cannot beat)',
    });
    report.add({
      name: 'start latency: request -> first step RUNNING p50',
      value: quantile(run, 0.5),
      unit: 'ms',
      baseline: { name: 'bare BullMQ add -> completed p50', value: quantile(rawLat, 0.5), unit: 'ms' },
      target: { on: 'value', op: '<=', value: 50 },
      note: `p99 ${quantile(run, 0.99).toFixed(1)} ms; the start reply itself p50 ${quantile(rep, 0.5).toFixed(1)} ms, p99 ${quantile(rep, 0.99).toFixed(1)} ms`,
    });
    // A step inside a run: in a -> b, from a's COMPLETED update to b's. Both updates take the same
    // path to this process, so what remains is what the executor adds per step of a workflow
    // (advance, queueing, pick-up, begin, tool, end), without the run's start and end, which the
    // figure above includes and "start latency" measures.
    const chainDef = workflowOf([
      { id: 'a', tool: 'core.transform', parameters: { value: 1 } },
      { id: 'b', tool: 'core.transform', parameters: { value: '{{steps.a.result}}' }, dependsOn: ['a'] },
    ]);
    progress(`no-op step inside a run: ${cli.latencyRuns} runs of a -> b one at a time, alternating with bare BullMQ jobs`);
    client.tracksSteps = true;
    const inRun: number[] = [];
    const rawInRunRaw: number[] = [];
    for (let i = 0; i < cli.latencyRuns && performance.now() < deadline; i++) {
      rawInRunRaw.push(await raw.one());
      const t0 = performance.now();
      const r = await client.start(chainDef);
      await client.ended_(r.executionId);
      const a = client.completedAt(r.executionId, 'a');
      const b = client.completedAt(r.executionId, 'b');
      client.forget(r.executionId);
      if (a !== undefined && b !== undefined && a >= t0) inRun.push(b - a);
    }
    client.tracksSteps = false;
    const inRunSorted = sortNum(inRun);
    const rawInRun = sortNum(rawInRunRaw);
    // Both readings of "the overhead of a no-op step" carry the issue's targets: this one (what a
    // step adds to a workflow) and the whole one-step run above (which adds the run's own start
    // and end: the request, its validation and persistence, and the run's final update).
    addStepOverhead(
      'no-op step inside a run (a -> b: a COMPLETED -> b COMPLETED)',
      inRunSorted,
      rawInRun,
      () => `${inRunSorted.length} runs one at a time, client-side between the two step updates: b's queueing, pick-up, begin, tool call and end, and a's and b's updates`,
    );
    report.details.latencyMs = {
      total: { p50: quantile(tot, 0.5), p90: quantile(tot, 0.9), p99: quantile(tot, 0.99), max: tot[tot.length - 1] },
      startReply: { p50: quantile(rep, 0.5), p99: quantile(rep, 0.99) },
      firstRunning: { p50: quantile(run, 0.5), p99: quantile(run, 0.99) },
      rawBull: { p50: quantile(rawLat, 0.5), p99: quantile(rawLat, 0.99) },
      direct: { p50: quantile(direct, 0.5), p99: quantile(direct, 0.99) },
      stepInRun: { p50: quantile(inRunSorted, 0.5), p99: quantile(inRunSorted, 0.99) },
    };

    // --- 2. throughput ----------------------------------------------------------------------------
    const inFlight = cli.concurrency * 2;
    const rounds = Math.max(1, cli.throughputRounds);
    const perRound = Math.max(1, Math.floor(cli.throughputRuns / rounds));
    const wideDef = workflowOf(Array.from({ length: cli.wideSteps }, (_, i) => ({ id: `s${i}`, tool: 'core.transform', parameters: { value: i } })), 'bench wide');
    // Both paths warmed alike before anything is measured: the executor's wide-run path (bulk
    // start, many steps in flight) is not exercised by the latency phase, which warmed the bare
    // worker's whole path; unwarmed, the first wide runs take about twice as long (JIT), and the
    // executor keeps getting faster for about ten of them (2,000 steps) before it levels off.
    progress(`throughput warm-up: ${cli.warmups} wide runs and ${cli.warmups} bare closed loops, not measured`);
    for (let i = 0; i < cli.warmups && performance.now() < deadline; i++) {
      await client.runOnce(wideDef);
      await closedLoop(perRound, inFlight, () => raw.one(), deadline);
    }
    const rawTps: number[] = [];
    const execTps: number[] = [];
    const wideTps: number[] = [];
    const wideWalls: number[] = [];
    let failedRuns = 0;
    for (let round = 0; round < rounds && performance.now() < deadline; round++) {
      progress(`throughput round ${round + 1}/${rounds}: bare BullMQ, ${perRound} jobs, ${inFlight} in flight, worker concurrency ${cli.concurrency}`);
      await settle();
      rawTps.push((await closedLoop(perRound, inFlight, () => raw.one(), deadline)).perS);
      progress(`throughput round ${round + 1}/${rounds}: ${perRound} one-step runs, ${inFlight} in flight`);
      await settle();
      const cpuTp = new CpuShare({ executor: exec.proc.pid, bench: process.pid, ...serverPids() });
      const execTp = await closedLoop(
        perRound,
        inFlight,
        async () => {
          const r = await client.runOnce(transformRun());
          if (r.status !== 'COMPLETED') failedRuns++;
        },
        deadline,
      );
      report.details[`cpuThroughputPhase_${round}`] = cpuTp.finish();
      execTps.push(execTp.perS);
      progress(`throughput round ${round + 1}/${rounds}: ${cli.wideRuns} runs of ${cli.wideSteps} independent no-op steps, one at a time`);
      await settle();
      const cpuWide = new CpuShare({ executor: exec.proc.pid, bench: process.pid, ...serverPids() });
      const walls: number[] = [];
      for (let w = 0; w < cli.wideRuns && performance.now() < deadline; w++) {
        const wide = await client.runOnce(wideDef);
        if (wide.status !== 'COMPLETED') report.note(`wide run ${round + 1}.${w + 1} ended ${wide.status}`);
        walls.push(wide.total);
      }
      report.details[`cpuWidePhase_${round}`] = cpuWide.finish();
      const wall = median(walls);
      wideWalls.push(wall);
      wideTps.push(cli.wideSteps / (wall / 1000));
    }
    const perRoundRatios = (xs: number[]) => xs.map((x, i) => `${r1(x)}/${r1(rawTps[i])} = ${(x / rawTps[i]).toFixed(2)}x`).join(', ');
    report.add({
      name: 'no-op step throughput (one-step runs)',
      value: median(execTps),
      unit: 'steps/s',
      baseline: { name: 'bare BullMQ add+process', value: median(rawTps), unit: 'jobs/s' },
      target: { on: 'ratio', op: '>=', value: 0.5 },
      note: `medians of ${execTps.length} rounds of ${perRound} runs of one core.transform step, ${inFlight} in flight (closed loop: request -> COMPLETED update), EXECUTOR_CONCURRENCY=${cli.concurrency}; a run also costs its tool_call and session_end events, 5 state updates and its (batched) Mongo row; per round (runs/s vs bare jobs/s): ${perRoundRatios(execTps)}${failedRuns ? `; ${failedRuns} not COMPLETED` : ''}`,
    });
    report.add({
      name: `no-op step throughput (one run of ${cli.wideSteps} independent steps)`,
      value: median(wideTps),
      unit: 'steps/s',
      baseline: { name: 'bare BullMQ add+process', value: median(rawTps), unit: 'jobs/s' },
      target: { on: 'ratio', op: '>=', value: 0.5 },
      note: `median of ${wideTps.length} rounds, each the median of ${cli.wideRuns} runs one at a time, request -> COMPLETED (start and end of the run included), after ${cli.warmups} unmeasured warm-up runs; round walls ${wideWalls.map(Math.round).join(', ')} ms; per round (steps/s vs bare jobs/s): ${perRoundRatios(wideTps)}`,
    });
    await raw.close();

    // A run's input is read by every step's templates but must not travel with every step: a
    // step's cost should not grow with the size of its run's input.
    const bigInput = { blob: 'x'.repeat(cli.inputKib * 1024) };
    progress(`input size: ${cli.wideRuns} wide runs with a ${cli.inputKib} KiB input, alternating with ${cli.wideRuns} without`);
    await settle();
    const withInput: number[] = [];
    const withoutInput: number[] = [];
    for (let w = 0; w < cli.wideRuns && performance.now() < deadline; w++) {
      withoutInput.push((await client.runOnce(wideDef)).total);
      withInput.push((await client.runOnce(wideDef, { input: bigInput })).total);
    }
    report.add({
      name: `no-op step throughput, run of ${cli.wideSteps} steps with a ${cli.inputKib} KiB input`,
      value: cli.wideSteps / (median(withInput) / 1000),
      unit: 'steps/s',
      baseline: { name: 'the same run with an empty input', value: cli.wideSteps / (median(withoutInput) / 1000), unit: 'steps/s' },
      target: { on: 'ratio', op: '>=', value: 0.8 },
      note: `medians of ${withInput.length} runs each, alternating; walls with input ${withInput.map(Math.round).join(', ')} ms, without ${withoutInput.map(Math.round).join(', ')} ms`,
    });

    // --- 3. parallelism ---------------------------------------------------------------------------
    progress(`parallelism: 3 x 100 ms and the uneven DAG, ${cli.dagRepeats} times each`);
    const three = workflowOf([delayStep('a', 100), delayStep('b', 100), delayStep('c', 100)], 'bench three');
    const dag = workflowOf([delayStep('a', 100), delayStep('b', 200), delayStep('c', 50, ['a']), delayStep('d', 50, ['b', 'c'])], 'bench dag');
    const threeWall: number[] = [];
    const threeServer: number[] = [];
    const dagWall: number[] = [];
    const dagServer: number[] = [];
    const threeBase: number[] = [];
    const dagBase: number[] = [];
    for (let i = 0; i < cli.dagRepeats && performance.now() < deadline; i++) {
      const t = await client.runOnce(three);
      threeWall.push(t.total);
      threeServer.push((await client.get(t.id)).durationMs ?? NaN);
      const d = await client.runOnce(dag);
      dagWall.push(d.total);
      dagServer.push((await client.get(d.id)).durationMs ?? NaN);
      threeBase.push(await timerParallel());
      dagBase.push(await timerDag());
    }
    report.add({
      name: '3 independent 100 ms steps: wall (median)',
      value: median(threeWall),
      unit: 'ms',
      baseline: { name: 'three 100 ms setTimeouts in parallel', value: median(threeBase), unit: 'ms' },
      target: { on: 'value', op: '<=', value: 130 },
      note: `client-side request -> COMPLETED; all ${threeWall.length}: ${threeWall.map(Math.round).join(', ')}; executor's own durationMs median ${median(threeServer)} ms`,
    });
    report.add({
      name: 'uneven DAG: wall (median) vs critical path 250 ms',
      value: median(dagWall),
      unit: 'ms',
      baseline: { name: 'the same DAG of setTimeouts (critical path)', value: median(dagBase), unit: 'ms' },
      target: { on: 'ratio', op: '<=', value: 1.1 },
      note: `a 100 -> c 50, b 200, d after b and c 50; all: ${dagWall.map(Math.round).join(', ')}; executor's own durationMs median ${median(dagServer)} ms`,
    });
    await exec.stop();

    // --- 4. scale-out -----------------------------------------------------------------------------
    const snames = await world('benchexecscale', infra, cleanup);
    const sclient = new ExecutorClient(infra, snames);
    cleanup.add('unsubscribe scale updates', async () => sclient.close());
    let inProvider = 0;
    let maxInProvider = 0;
    const provider = infra.nc.subscribe(toolSubject(snames.subjectPrefix, 'bench.sleep'), {
      queue: 'toolpath-tools',
      callback: (err, msg) => {
        if (err) return;
        inProvider++;
        maxInProvider = Math.max(maxInProvider, inProvider);
        setTimeout(() => {
          inProvider--;
          msg.respond(enc.encode(JSON.stringify({ ok: true, result: { slept: 50 } })));
        }, 50);
      },
    });
    cleanup.add('stop the sleep provider', async () => provider.unsubscribe());
    await sclient.ready();
    const scaleEnv = { EXECUTOR_CONCURRENCY: String(cli.scaleConcurrency) };
    progress(`scale-out: executor processes with EXECUTOR_CONCURRENCY=${cli.scaleConcurrency}, provider sleeping 50 ms`);
    const e1 = await startExecutor(snames, { ...cli.executorEnv, ...scaleEnv }, cleanup);
    const ioRun = workflowOf(Array.from({ length: 8 }, (_, i) => ({ id: `io${i}`, tool: 'bench.sleep', parameters: { i } })), 'bench io');
    const batch = async (): Promise<number> => {
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: cli.scaleRuns }, () => sclient.runOnce(ioRun)));
      const bad = results.filter((r) => r.status !== 'COMPLETED').length;
      if (bad) report.note(`scale-out: ${bad} runs did not complete`);
      return (cli.scaleRuns * 8) / ((performance.now() - t0) / 1000);
    };
    await batch(); // warm-up
    let e2: ServiceProcess | undefined;
    const one: number[] = [];
    const two: number[] = [];
    for (let i = 0; i < cli.scaleRepeats && performance.now() < deadline; i++) {
      if (e2) {
        await e2.stop();
        e2 = undefined;
      }
      progress(`scale-out ${i + 1}/${cli.scaleRepeats}: one executor`);
      maxInProvider = 0;
      one.push(await batch());
      report.details[`scaleMaxConcurrentToolCalls1_${i}`] = maxInProvider;
      e2 = await startExecutor(snames, { ...cli.executorEnv, ...scaleEnv }, cleanup);
      await batch(); // warm the second executor
      progress(`scale-out ${i + 1}/${cli.scaleRepeats}: two executors`);
      maxInProvider = 0;
      const cpu = new CpuShare({ e1: e1.proc.pid, e2: e2.proc.pid, bench: process.pid, ...serverPids() });
      two.push(await batch());
      report.details[`cpuScaleTwo_${i}`] = cpu.finish();
      report.details[`scaleMaxConcurrentToolCalls2_${i}`] = maxInProvider;
    }
    if (e2) await e2.stop();
    await e1.stop();
    report.add({
      name: 'scale-out: steps/s with 2 executors (median)',
      value: median(two),
      unit: 'steps/s',
      baseline: { name: '1 executor (median)', value: median(one), unit: 'steps/s' },
      target: { on: 'ratio', op: '>=', value: 1.3 },
      note: `${cli.scaleRuns} runs x 8 steps of a NATS tool sleeping 50 ms, EXECUTOR_CONCURRENCY=${cli.scaleConcurrency} each (ideal: ${(1000 / 50) * cli.scaleConcurrency} steps/s per executor); one: ${one.map(r1).join(', ')}; two: ${two.map(r1).join(', ')}`,
    });
    report.details.loadAvg = { ...(report.details.loadAvg as object), end: loadavg().map((x) => Math.round(x * 100) / 100) };
    report.note('executors run as separate processes (startService); the bench process (client, bare BullMQ worker, tool provider) and the servers share the same cores');
    report.print();
    report.write(cli.json);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
