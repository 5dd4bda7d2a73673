/**
 * Mining speed and memory (libs/mining, in this process): 1,000,000 events through session
 * assembly, counting, pattern listing and inference; then 10,000 more events incrementally; and
 * the counting inner loop against a bare Map-increment loop over the same tokens.
 * `node bench/dist/mining.bench.js --help` explains the phases.
 */
import { readFileSync } from 'node:fs';
import { inferWorkflow, PatternCounter, SessionAssembler, type MiningEvent } from '@toolpath/mining';
import { parseCli } from './lib/cli';
import { localMachineInfo } from './lib/local-machine';
import { Report } from './lib/report';
import { SyntheticLogs } from './lib/synthetic-logs';

const cli = parseCli({
  usage: 'node --expose-gc bench/dist/mining.bench.js',
  description: `
Synthetic logs (bench/lib/synthetic-logs.ts: planted workflows, noise, failures; about 10 tool
calls and a session_end per session) are generated in chunks of --chunk events; generation is
not timed, everything the analyzer would do is:
 1. full run: --events events -> SessionAssembler.add, takeClosed after each chunk,
    PatternCounter.addSession for every closed session; then patterns() and inferWorkflow of the
    --infer best patterns. Peak RSS of the process (VmHWM) beside the 1.5 GB target.
 2. incremental: --increment more events on top, through the same assembler and counter, then
    patterns() again. Baseline: the full run's time (what a rebuild would cost).
 3. counting inner loop: the stored sessions of the first --loop-sessions sessions counted again
    on a copy of the counter (from its snapshot), visits per second, against a bare
    "m.set(k, (m.get(k) ?? 0) + 1)" loop over the keys that same counting looked up.
Snapshot size and encode/decode times are reported too.`,
  options: {
    events: { kind: 'int', default: 1_000_000, help: 'events of the full run' },
    increment: { kind: 'int', default: 10_000, help: 'events added incrementally' },
    chunk: { kind: 'int', default: 10_000, help: 'events generated and fed per chunk' },
    infer: { kind: 'int', default: 20, help: 'top patterns to infer workflows for' },
    loopSessions: { kind: 'int', default: 20_000, help: 'sessions recounted in the inner-loop comparison' },
    seed: { kind: 'int', default: 7, help: 'generator seed' },
  },
});

function peakRssBytes(): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

const MB = 2 ** 20;

function main(): void {
  const report = new Report('mining', { events: cli.events, increment: cli.increment, chunk: cli.chunk, infer: cli.infer, seed: cli.seed }, localMachineInfo());
  // Sessions average ~11 events; generate enough, stop at the event budget.
  const logs = new SyntheticLogs({ seed: cli.seed, sessions: Math.ceil((cli.events + cli.increment) / 5), workflows: 30, noiseTools: 200 });
  const source = logs.events();
  const nextChunk = (n: number): MiningEvent[] => {
    const out: MiningEvent[] = [];
    for (let i = 0; i < n; i++) {
      const r = source.next();
      if (r.done) break;
      out.push(r.value);
    }
    return out;
  };
  const assembler = new SessionAssembler({ sessionIdleMs: 300_000 });
  const counter = new PatternCounter({ tenantId: logs.options.tenantId });
  let now = 0;
  const feed = (events: MiningEvent[]): number => {
    const t0 = performance.now();
    for (const e of events) {
      assembler.add(e);
      const end = e.startedAt + e.durationMs;
      if (end > now) now = end;
    }
    for (const s of assembler.takeClosed(now)) counter.addSession(s);
    return performance.now() - t0;
  };

  // 1. full run
  let fed = 0;
  let miningMs = 0;
  const wall0 = performance.now();
  while (fed < cli.events) {
    const chunk = nextChunk(Math.min(cli.chunk, cli.events - fed));
    if (chunk.length === 0) break;
    fed += chunk.length;
    miningMs += feed(chunk);
  }
  let t = performance.now();
  const listed = counter.patterns();
  const listMs = performance.now() - t;
  t = performance.now();
  let inferred = 0;
  for (const p of listed.slice(0, cli.infer)) {
    inferWorkflow(p, counter.occurrences(p.id));
    inferred++;
  }
  const inferMs = performance.now() - t;
  const fullMs = miningMs + listMs + inferMs;
  const wallMs = performance.now() - wall0;
  const stats = counter.stats();
  report.add({
    name: `full run: ${fed.toLocaleString('en-US')} events (assemble + count + list + infer ${inferred})`,
    value: fullMs / 1000,
    unit: 's',
    target: { on: 'value', op: '<=', value: 20 },
    note: `assemble+count ${(miningMs / 1000).toFixed(2)} s, list ${listMs.toFixed(0)} ms (${listed.length} patterns), infer ${inferMs.toFixed(0)} ms; wall with generation ${(wallMs / 1000).toFixed(1)} s; ${stats.sessionsSeen} sessions, ${stats.nodes} trie nodes, ${stats.frequentNodes} frequent, threshold ${stats.countingThreshold}`,
  });
  report.add({ name: 'peak RSS (VmHWM, whole process incl. generator)', value: peakRssBytes() / MB, unit: 'MiB', target: { on: 'value', op: '<=', value: 1536 } });

  // 2. incremental
  const inc = nextChunk(cli.increment);
  t = performance.now();
  feed(inc);
  const relisted = counter.patterns();
  const incMs = performance.now() - t;
  report.add({
    name: `incremental: ${inc.length.toLocaleString('en-US')} events on top (assemble + count + list)`,
    value: incMs,
    unit: 'ms',
    baseline: { name: 'full run', value: fullMs, unit: 'ms' },
    target: { on: 'value', op: '<=', value: 1000 },
    note: `${relisted.length} patterns listed after`,
  });

  // snapshot
  t = performance.now();
  const snap = counter.toSnapshot();
  const encMs = performance.now() - t;
  t = performance.now();
  const copy = PatternCounter.fromSnapshot(snap);
  const decMs = performance.now() - t;
  report.add({
    name: 'snapshot size',
    value: snap.length / MB,
    unit: 'MiB',
    note: `encode ${encMs.toFixed(0)} ms, decode ${decMs.toFixed(0)} ms, ${(snap.length / counter.stats().storedSteps).toFixed(2)} bytes per stored step`,
  });

  // 3. counting inner loop vs bare Map increments over the same tokens
  const n = Math.min(cli.loopSessions, copy.sessionsSeen);
  const captured: number[] = [];
  PatternCounter.fromSnapshot(snap).recountStoredSessions(0, n, captured);
  const tokens = Int32Array.from(captured);
  const keys = new Float64Array(tokens.length / 3);
  for (let i = 0; i < keys.length; i++) keys[i] = tokens[3 * i] * 2 ** 22 + tokens[3 * i + 1];
  const kernelCounter = PatternCounter.fromSnapshot(snap);
  const kernel = (): number => {
    const t0 = performance.now();
    kernelCounter.countCapturedTokens(tokens);
    return performance.now() - t0;
  };
  const bare = (): number => {
    const m = new Map<number, number>();
    const t0 = performance.now();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return performance.now() - t0;
  };
  // Alternate and keep the best of 5 each: the machine is shared.
  let kernelMs = Infinity;
  let bareMs = Infinity;
  for (let r = 0; r < 5; r++) {
    kernelMs = Math.min(kernelMs, kernel());
    bareMs = Math.min(bareMs, bare());
  }
  report.add({
    name: `counting inner loop (${keys.length.toLocaleString('en-US')} tokens of ${n.toLocaleString('en-US')} sessions)`,
    value: keys.length / kernelMs / 1000,
    unit: 'M tokens/s',
    baseline: { name: 'bare Map-increment loop, same tokens as node*2^22+tool', value: keys.length / bareMs / 1000, unit: 'M tokens/s' },
    target: { on: 'ratio', op: '>=', value: 0.5 },
    note: 'the counting step of PatternCounter.extend (child by tool id, once-per-session stamp, support++) replayed over the (node, tool, session) tokens its enumeration produced',
  });
  const recountCopy = PatternCounter.fromSnapshot(snap);
  recountCopy.recountStoredSessions(0, Math.min(2000, n));
  t = performance.now();
  const { visits } = recountCopy.recountStoredSessions(0, n);
  const loopMs = performance.now() - t;
  report.add({
    name: 'end-to-end recount (enumeration + counting + statistics + candidate lists)',
    value: visits / loopMs / 1000,
    unit: 'M visits/s',
    baseline: { name: 'bare Map-increment loop, same tokens', value: keys.length / bareMs / 1000, unit: 'M tokens/s' },
    note: `${visits} visits in ${loopMs.toFixed(0)} ms: per visit it also walks the gap window, keeps candidate session lists and the statistics of frequent patterns, and descends into them (no target; for transparency)`,
  });
  report.details.counter = counter.stats();
  report.print();
  report.write(cli.json);
}

main();
