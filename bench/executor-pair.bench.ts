/**
 * Two executor configurations side by side, on one machine at the same time: A is the baseline,
 * B the candidate. `node bench/dist/executor-pair.bench.js --help` explains it.
 */
import { loadavg } from 'node:os';
import { parseCli } from './lib/cli';
import { ExecutorClient, median, sortNum, startExecutor, transformRun, workflowOf, world } from './lib/executor-world';
import { cpuSeconds } from './lib/machine';
import { Cleanup, connectInfra, describeInfra, progress } from './lib/pipeline';
import { Report, quantile } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/executor-pair.bench.js --b KEY=VALUE [--a KEY=VALUE ...]',
  description: `
Compares two configurations of the executor (apps/executor/dist, built with
npx tsc -b tsconfig.build.json) that differ only in the settings given: --a for the baseline,
--b for the candidate (environment variables of the executor process, repeatable; NODE_OPTIONS
works too). Both executors run at once, each in its own world (stream, database, queue prefix),
and every measurement alternates between them one run at a time, so drift of a shared machine
lands on both alike: on a busy two-core VM a sequential before/after cannot see a 10 % change,
this can.
 1. latency: --latency-runs one-step core.transform runs (request -> the run's COMPLETED update)
    and as many a -> b runs (a's COMPLETED update -> b's: a step inside a workflow) per side;
 2. throughput: --wide-runs runs of --wide-steps independent no-op steps per side, with the
    executor's CPU time per step (from /proc) over those runs.
Before that, --warmups one-step runs and a fifth as many wide runs per side, not measured.
Each figure is B's, beside A's as the baseline; there are no targets.`,
  options: {
    a: { kind: 'pairs', help: 'setting of executor A, the baseline (repeatable)' },
    b: { kind: 'pairs', help: 'setting of executor B, the candidate (repeatable)' },
    concurrency: { kind: 'int', default: 32, help: 'EXECUTOR_CONCURRENCY of both, unless --a/--b set it' },
    latencyRuns: { kind: 'int', default: 300, help: 'one-step runs, and as many a -> b runs, per side' },
    wideRuns: { kind: 'int', default: 10, help: 'wide runs per side' },
    wideSteps: { kind: 'int', default: 200, help: 'independent no-op steps of a wide run' },
    warmups: { kind: 'int', default: 50, help: 'unmeasured one-step runs per side (and a fifth as many wide runs)' },
    maxMinutes: { kind: 'number', default: 15, help: 'abort (and clean up) after this long' },
  },
});

interface Side {
  label: 'A' | 'B';
  env: Record<string, string>;
  pid: number;
  client: ExecutorClient;
  oneStep: number[];
  inRun: number[];
  wide: number[];
  cpuS: number;
  steps: number;
}

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'executor-pair.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('executor-pair', { a: cli.a, b: cli.b, concurrency: cli.concurrency, latencyRuns: cli.latencyRuns, wideRuns: cli.wideRuns, wideSteps: cli.wideSteps, warmups: cli.warmups });
  try {
    report.setMachine(await describeInfra(infra));
    report.details.loadAvg = { start: loadavg().map((x) => Math.round(x * 100) / 100) };
    const sides: Side[] = [];
    for (const [label, settings] of [
      ['A', cli.a],
      ['B', cli.b],
    ] as const) {
      const names = await world(`benchpair${label.toLowerCase()}`, infra, cleanup);
      const env = { EXECUTOR_CONCURRENCY: String(cli.concurrency), ...settings };
      progress(`starting executor ${label} (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})`);
      const svc = await startExecutor(names, env, cleanup);
      const client = new ExecutorClient(infra, names);
      cleanup.add(`unsubscribe ${label}`, async () => client.close());
      await client.ready();
      client.tracksSteps = true;
      if (svc.proc.pid === undefined) throw new Error(`executor ${label} has no pid`);
      sides.push({ label, env, pid: svc.proc.pid, client, oneStep: [], inRun: [], wide: [], cpuS: 0, steps: 0 });
    }
    const chain = workflowOf([
      { id: 'a', tool: 'core.transform', parameters: { value: 1 } },
      { id: 'b', tool: 'core.transform', parameters: { value: '{{steps.a.result}}' }, dependsOn: ['a'] },
    ]);
    const wide = workflowOf(Array.from({ length: cli.wideSteps }, (_, i) => ({ id: `s${i}`, tool: 'core.transform', parameters: { value: i } })), 'bench wide');

    progress(`warm-up: ${cli.warmups} one-step and ${Math.ceil(cli.warmups / 5)} wide runs per side, alternating`);
    for (let i = 0; i < cli.warmups && performance.now() < deadline; i++) for (const s of sides) await s.client.runOnce(transformRun(i));
    for (let i = 0; i < Math.ceil(cli.warmups / 5) && performance.now() < deadline; i++) for (const s of sides) await s.client.runOnce(wide);

    progress(`latency: ${cli.latencyRuns} one-step and ${cli.latencyRuns} a -> b runs per side, alternating run by run`);
    for (let i = 0; i < cli.latencyRuns && performance.now() < deadline; i++) {
      for (const s of sides) {
        s.oneStep.push((await s.client.runOnce(transformRun(i))).total);
        // Not runOnce: it forgets the run's step updates before they could be read.
        const { executionId } = await s.client.start(chain);
        await s.client.ended_(executionId);
        const a = s.client.completedAt(executionId, 'a');
        const b = s.client.completedAt(executionId, 'b');
        s.client.forget(executionId);
        if (a !== undefined && b !== undefined) s.inRun.push(b - a);
      }
    }
    for (const s of sides) s.client.tracksSteps = false;

    progress(`throughput: ${cli.wideRuns} runs of ${cli.wideSteps} steps per side, alternating`);
    for (let i = 0; i < cli.wideRuns && performance.now() < deadline; i++) {
      for (const s of sides) {
        const before = cpuSeconds(s.pid) ?? 0;
        const r = await s.client.runOnce(wide);
        s.cpuS += (cpuSeconds(s.pid) ?? before) - before;
        s.steps += cli.wideSteps;
        s.wide.push(cli.wideSteps / (r.total / 1000));
      }
    }

    const [a, b] = sides;
    const latency = (name: string, pick: (s: Side) => number[], what: string) => {
      for (const q of [0.5, 0.99]) {
        const p = `p${q * 100}`;
        report.add({
          name: `${name} ${p}`,
          value: quantile(sortNum(pick(b)), q),
          unit: 'ms',
          baseline: { name: `executor A ${p}`, value: quantile(sortNum(pick(a)), q), unit: 'ms' },
          note: `${pick(b).length} vs ${pick(a).length} ${what}, alternating`,
        });
      }
    };
    latency('one-step run, request -> COMPLETED', (s) => s.oneStep, 'one-step runs');
    latency('step inside a run, a COMPLETED -> b COMPLETED', (s) => s.inRun, 'a -> b runs');
    report.add({
      name: `throughput, runs of ${cli.wideSteps} independent steps (median)`,
      value: median(b.wide),
      unit: 'steps/s',
      baseline: { name: 'executor A (median)', value: median(a.wide), unit: 'steps/s' },
      note: `${b.wide.length} vs ${a.wide.length} runs, alternating`,
    });
    report.add({
      name: 'executor CPU per step over the wide runs',
      value: (b.cpuS * 1e6) / Math.max(1, b.steps),
      unit: 'us',
      baseline: { name: 'executor A', value: (a.cpuS * 1e6) / Math.max(1, a.steps), unit: 'us' },
      note: 'user + system time of the executor process, from /proc, over its wide runs',
    });
    report.note(`A: ${JSON.stringify(a.env)}; B: ${JSON.stringify(b.env)}`);
    report.details.loadAvg = { ...(report.details.loadAvg as object), end: loadavg().map((x) => Math.round(x * 100) / 100) };
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
