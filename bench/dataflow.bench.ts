/**
 * Data flow and parallel steps of inferred workflows, on planted logs and on real sessions.
 * `node bench/dist/dataflow.bench.js --help` explains the options.
 */
import { readFileSync } from 'node:fs';
import { inferWorkflow, PatternCounter, SessionAssembler, type ClosedSession, type MiningEvent } from '@toolpath/mining';
import {
  DEFAULT_BINDING_EVAL,
  judgeBindings,
  naiveInference,
  orderOnlyParallelPairs,
  predictedParallelPairs,
  scoreBindings,
  scoreParallel,
  type EvalCase,
  type JudgedBinding,
} from './lib/binding-eval';
import { parseCli } from './lib/cli';
import { localMachineInfo } from './lib/local-machine';
import { matchesPlanted } from './lib/planted-recovery';
import { Report, table } from './lib/report';
import { SyntheticLogs, type PlantedWorkflow } from './lib/synthetic-logs';

const cli = parseCli({
  usage: 'node bench/dist/dataflow.bench.js',
  description: `
Data-flow bindings and parallel steps of the workflows inferWorkflow learns.

Planted logs (bench/lib/synthetic-logs.ts; --planted-sessions sessions, some workflows returning
JSON text, some returning the id they produce at a random position of an array, told apart by a
key equal to one of the tool's parameters): events go through the SessionAssembler and the
PatternCounter; every listed pattern that is a planted workflow is inferred. A binding is correct
when the planted workflow has that flow (same tools and parameter) and the template, rendered by
the workflow template engine on each occurrence, gives the value that was passed in at least 90 %
of them. Parallel steps are scored against the planted independent stages.

Real sessions (--sessions FILE, JSON lines of tool_call / session_end events with real results;
several files comma-separated): every listed pattern is inferred and scored against a ground truth
computed by an exhaustive matcher (bench/lib/binding-eval.ts), independent of the inference code:
a flow is a parameter whose (informative, varying) value is found anywhere in an earlier step's
result in at least 90 % of the pattern's occurrences. Parallel ground truth: each order in at
least 20 % of the occurrences and 3 sessions, with no data flow between the steps.

Real sessions from the public tau-bench repository (tools, data, gpt-4o trajectories), converted
by bench/tau/to-events.py:
  python3 bench/tau/to-events.py --tau-dir DIR --trajectories DIR/historical_trajectories/gpt-4o-airline.json > traj.jsonl
  python3 bench/tau/to-events.py --tau-dir DIR > tasks.jsonl

Baselines, same patterns and occurrences: a binder that takes the first place where a value was
seen once (no evidence thresholds), and parallel steps for any pair whose rarer order has 10 % of
the occurrences.`,
  options: {
    plantedSessions: { kind: 'int', default: 3000, help: 'planted-log sessions (0: skip the planted logs)', min: 0 },
    workflows: { kind: 'int', default: 12, help: 'planted workflows' },
    noise: { kind: 'number', default: 0.3, help: 'planted logs: probability of an unrelated call at each slot between two steps' },
    jsonTextShare: { kind: 'number', default: 0.5, help: 'planted logs: share of workflows whose tools return JSON text' },
    keyedShare: { kind: 'number', default: 0.5, help: 'planted logs: share of workflows returning ids at varying array positions' },
    longWorkflows: { kind: 'int', default: 0, help: 'planted logs: long procedures (25 steps, loops inside) besides --workflows', min: 0 },
    seed: { kind: 'int', default: 42, help: 'generator seed' },
    listRatio: { kind: 'number', default: 0.01, help: 'planted logs: list patterns in at least this share of sessions' },
    sessions: { kind: 'string', help: 'JSON-lines event files with real results (comma-separated)' },
    minSupport: { kind: 'int', default: 3, help: 'real sessions: list patterns in at least this many sessions' },
    show: { kind: 'int', default: 10, help: 'wrong bindings and parallel pairs printed per dataset', min: 0 },
  },
});

const PLANTED_PRECISION = 0.95;
const PLANTED_RECALL = 0.9;
const REAL_PRECISION = 0.9;

function assemble(events: Iterable<MiningEvent>): ClosedSession[] {
  const assembler = new SessionAssembler({ sessionIdleMs: 300_000 });
  for (const e of events) assembler.add(e);
  return assembler.takeAll();
}

/** JSON lines of events (contract v1 or the mining shape): ISO or epoch-ms times, missing tenant/stream sequence filled in. */
function* readEvents(files: string[]): Generator<MiningEvent> {
  let streamSeq = 0;
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n].trim();
      if (!line) continue;
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${file}:${n + 1}: not JSON`);
      }
      const startedAt = typeof raw.startedAt === 'string' ? Date.parse(raw.startedAt) : Number(raw.startedAt ?? 0);
      yield {
        ...(raw as unknown as MiningEvent),
        tenantId: typeof raw.tenantId === 'string' ? raw.tenantId : 'real',
        kind: raw.kind === 'session_end' ? 'session_end' : 'tool_call',
        streamSeq: typeof raw.streamSeq === 'number' ? raw.streamSeq : ++streamSeq,
        startedAt: Number.isFinite(startedAt) ? startedAt : 0,
        durationMs: Number(raw.durationMs ?? 0),
        success: raw.success !== false,
      };
    }
  }
}

const pct = (x: number): string => x.toFixed(3);

/** Planted logs: bindings against the planted flows, parallel steps against the planted stages. */
function planted(report: Report): void {
  const logs = new SyntheticLogs({
    seed: cli.seed,
    sessions: cli.plantedSessions,
    workflows: cli.workflows,
    noise: cli.noise,
    jsonTextResults: cli.jsonTextShare,
    keyedArrayResults: cli.keyedShare,
    longWorkflows: cli.longWorkflows,
  });
  const sessions = assemble(logs.events());
  const counter = new PatternCounter();
  counter.addSessions(sessions);
  const listed = counter.patterns({ minSupport: Math.max(3, Math.ceil(cli.listRatio * sessions.length)) });
  const matched = new Map<PlantedWorkflow, EvalCase>();
  const t0 = performance.now();
  for (const p of listed) {
    const w = logs.workflows.find((x) => matchesPlanted(p.tools, x));
    if (!w || matched.has(w)) continue;
    const occurrences = counter.occurrences(p.id);
    matched.set(w, { pattern: p, occurrences, inferred: inferWorkflow(p, occurrences) });
  }
  const inferMs = performance.now() - t0;
  const score = (pick: (c: EvalCase) => EvalCase) => {
    let bindings = 0;
    let correct = 0;
    let plantedCount = 0;
    let found = 0;
    let parallelPlanted = 0;
    let parallelFound = 0;
    let parallelPredicted = 0;
    let parallelCorrect = 0;
    const wrong: JudgedBinding[] = [];
    for (const [w, c0] of matched) {
      const c = pick(c0);
      const { judged } = judgeBindings(c);
      const toolOf = new Map(c.inferred.definition.steps.map((s) => [s.id, s.tool]));
      const isPlanted = (j: JudgedBinding): boolean =>
        w.bindings.some((b) => b.toTool === toolOf.get(j.to) && b.fromTool === toolOf.get(j.from ?? '') && b.parameter === j.parameter);
      const ok = judged.filter((j) => isPlanted(j) && j.renderedShare >= DEFAULT_BINDING_EVAL.minShare);
      bindings += judged.length;
      correct += ok.length;
      wrong.push(...judged.filter((j) => !ok.includes(j)));
      plantedCount += w.bindings.length;
      found += w.bindings.filter((b) => ok.some((j) => toolOf.get(j.to) === b.toTool && j.parameter === b.parameter)).length;
      const pairs = (c.inferred === c0.inferred ? predictedParallelPairs(c) : orderOnlyParallelPairs(0.1)(c)).map(([i, j]) => [c.pattern.tools[i], c.pattern.tools[j]]);
      const plantedPair = (a: string, b: string): boolean => w.parallelPairs.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
      parallelPlanted += w.parallelPairs.length;
      parallelPredicted += pairs.length;
      parallelCorrect += pairs.filter(([a, b]) => plantedPair(a, b)).length;
      parallelFound += w.parallelPairs.filter(([a, b]) => pairs.some(([x, y]) => (x === a && y === b) || (x === b && y === a))).length;
    }
    const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);
    return {
      bindings,
      correct,
      precision: ratio(correct, bindings),
      planted: plantedCount,
      found,
      recall: ratio(found, plantedCount),
      parallelPrecision: ratio(parallelCorrect, parallelPredicted),
      parallelRecall: ratio(parallelFound, parallelPlanted),
      parallelPredicted,
      parallelPlanted,
      wrong,
    };
  };
  const ours = score((c) => c);
  const naive = score((c) => ({ ...c, inferred: naiveInference(c) }));
  const exhaustive = scoreBindings([...matched.values()]);
  const jsonWorkflows = [...matched.keys()].filter((w) => w.jsonText).length;
  const keyedWorkflows = [...matched.keys()].filter((w) => w.keyedArray).length;
  report.add({
    name: 'planted: binding precision',
    value: ours.precision,
    unit: '',
    baseline: { name: 'first place seen once', value: naive.precision, unit: '' },
    target: { on: 'value', op: '>=', value: PLANTED_PRECISION },
    note: `${ours.correct}/${ours.bindings} correct (baseline ${naive.correct}/${naive.bindings})`,
  });
  report.add({
    name: 'planted: binding recall',
    value: ours.recall,
    unit: '',
    baseline: { name: 'first place seen once', value: naive.recall, unit: '' },
    target: { on: 'value', op: '>=', value: PLANTED_RECALL },
    note: `${ours.found}/${ours.planted} planted flows of the ${matched.size} workflows found (${jsonWorkflows} returning JSON text, ${keyedWorkflows} ids in arrays)`,
  });
  report.add({
    name: 'planted: parallel-pair precision',
    value: ours.parallelPrecision,
    unit: '',
    baseline: { name: 'rarer order >= 10 %', value: naive.parallelPrecision, unit: '' },
    note: `${ours.parallelPredicted} pairs predicted (baseline ${naive.parallelPredicted})`,
  });
  report.add({
    name: 'planted: parallel-pair recall',
    value: ours.parallelRecall,
    unit: '',
    baseline: { name: 'rarer order >= 10 %', value: naive.parallelRecall, unit: '' },
    note: `${ours.parallelPlanted} planted pairs`,
  });
  report.details.planted = {
    sessions: sessions.length,
    listed: listed.length,
    workflowsMatched: matched.size,
    workflowsPlanted: logs.workflows.length,
    inferMs: Math.round(inferMs),
    ours: { ...ours, wrong: ours.wrong.slice(0, 20) },
    naive: { ...naive, wrong: naive.wrong.length },
    exhaustiveGroundTruth: { ...exhaustive, wrong: exhaustive.wrong.slice(0, 20) },
  };
  for (const j of ours.wrong.slice(0, cli.show)) report.note(`planted: not a planted flow or misread: ${j.tools.join(' > ')}: ${j.to}.${j.parameter} = ${j.template} (renders ${pct(j.renderedShare)})`);
}

/** Real sessions: every listed pattern, against the exhaustive ground truth. */
function real(report: Report, files: string[]): void {
  const sessions = assemble(readEvents(files));
  const counter = new PatternCounter();
  counter.addSessions(sessions);
  const listed = counter.patterns({ minSupport: cli.minSupport });
  const t0 = performance.now();
  const cases: EvalCase[] = listed.map((p) => {
    const occurrences = counter.occurrences(p.id);
    return { pattern: p, occurrences, inferred: inferWorkflow(p, occurrences) };
  });
  const inferMs = performance.now() - t0;
  const ours = scoreBindings(cases);
  const naive = scoreBindings(cases.map((c) => ({ ...c, inferred: naiveInference(c) })));
  const parallel = scoreParallel(cases);
  const parallelBase = scoreParallel(cases, DEFAULT_BINDING_EVAL, orderOnlyParallelPairs(0.1));
  const name = files.map((f) => f.split('/').pop()).join('+');
  report.add({
    name: `${name}: binding precision`,
    value: ours.precision,
    unit: '',
    baseline: { name: 'first place seen once', value: naive.precision, unit: '' },
    target: { on: 'value', op: '>=', value: REAL_PRECISION },
    note: `${ours.correct}/${ours.bindings} correct over ${cases.length} patterns (baseline ${naive.correct}/${naive.bindings})`,
  });
  report.add({
    name: `${name}: binding recall (flows in >= 90 % of occurrences)`,
    value: ours.recall,
    unit: '',
    baseline: { name: 'first place seen once', value: naive.recall, unit: '' },
    note: `${ours.found}/${ours.trueFlows} (step, parameter) flows read by a correct binding; the others are found only at varying places (array positions, map keys) without a field that tells the element apart, at one position chosen among several elements, or are values the workflow already had as inputs`,
  });
  report.add({
    name: `${name}: binding recall, flows at one fixed place`,
    value: ours.fixedPlaceRecall,
    unit: '',
    baseline: { name: 'first place seen once', value: naive.fixedPlaceRecall, unit: '' },
    note: `${ours.fixedPlaceFound}/${ours.fixedPlaceFlows} flows whose value sits at the same place of the result in >= 90 % of the occurrences, not a position among several elements`,
  });
  report.add({
    name: `${name}: binding recall, fixed place, value not already an input`,
    value: ours.newValueRecall,
    unit: '',
    baseline: { name: 'first place seen once', value: naive.newValueRecall, unit: '' },
    note: `${ours.newValueFound}/${ours.newValueFlows} (a value an earlier step already took as a parameter is shared as that input, by design)`,
  });
  report.add({
    name: `${name}: parallel-pair precision`,
    value: parallel.precision,
    unit: '',
    baseline: { name: 'rarer order >= 10 %', value: parallelBase.precision, unit: '' },
    note: `${parallel.correctPairs}/${parallel.predictedPairs} pairs; ${parallel.patternsWithParallel}/${cases.length} patterns with parallel steps (baseline ${parallelBase.patternsWithParallel}, ${parallelBase.correctPairs}/${parallelBase.predictedPairs} pairs)`,
  });
  report.add({
    name: `${name}: parallel-pair recall`,
    value: parallel.recall,
    unit: '',
    baseline: { name: 'rarer order >= 10 %', value: parallelBase.recall, unit: '' },
    note: `${parallel.truePairs} ground-truth pairs`,
  });
  report.note(`${name}: ${cases.length} patterns from ${sessions.length} sessions inferred in ${Math.round(inferMs)} ms`);
  report.details[name] = {
    sessions: sessions.length,
    patterns: cases.length,
    ours: { ...ours, wrong: ours.wrong.slice(0, 50) },
    naive: { ...naive, wrong: naive.wrong.length },
    parallel,
    parallelBaseline: { ...parallelBase, wrong: parallelBase.wrong.length },
  };
  const rows = [['pattern', 'step.parameter', 'template', 'renders', 'ground truth']];
  for (const j of ours.wrong.slice(0, cli.show)) rows.push([j.tools.join(' > ').slice(0, 70), `${j.to}.${j.parameter}`, j.template.slice(0, 80), pct(j.renderedShare), String(j.inGroundTruth)]);
  if (rows.length > 1) console.log(`\n${name}: wrong bindings (first ${cli.show}):\n${table(rows)}`);
  for (const w of parallel.wrong.slice(0, cli.show)) report.note(`${name}: parallel without ground truth: ${w}`);
}

function main(): void {
  const files = (cli.sessions ?? '').split(',').filter(Boolean);
  const report = new Report(
    'dataflow',
    { plantedSessions: cli.plantedSessions, workflows: cli.workflows, longWorkflows: cli.longWorkflows, noise: cli.noise, jsonTextShare: cli.jsonTextShare, keyedShare: cli.keyedShare, seed: cli.seed, sessions: files, minSupport: cli.minSupport },
    localMachineInfo(),
  );
  if (cli.plantedSessions > 0) planted(report);
  if (files.length > 0) real(report, files);
  report.print();
  report.write(cli.json);
}

main();
