/**
 * The analyzer on real logs, each figure beside its baseline from the same run:
 * directly-follows exactness against pm4py, prediction and suggestions against simple baselines,
 * data-flow bindings, and the time and memory of the analyzer's runs.
 * `node bench/dist/real-logs.bench.js --help` explains every step.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Collections, type AnalyzerRunView, type ToolEventInput } from '@toolpath/contracts';
import { PatternCounter, inferWorkflow, type ClosedSession } from '@toolpath/mining';
import { detectDelimiter, openLogFile, resolveCsvColumns } from '@toolpath/log-import';
import { isolatedEnv, startService, type ServiceProcess, type TestNames } from '@toolpath/testing';
import { DEFAULT_BINDING_EVAL, naiveInference, orderOnlyParallelPairs, scoreBindings, scoreParallel, type EvalCase } from './lib/binding-eval';
import { parseCli } from './lib/cli';
import { BENCH_TENANT } from './lib/events';
import { crossValidateInference, evaluateInference, groupByIntent, splitSessions } from './lib/inference-eval';
import { flowFromAnalyzer, flowFromJournal, type AnalyzerDfg } from './lib/analyzer-flow';
import { peakRssBytes } from './lib/machine';
import { Cleanup, askAnalyzer, connectInfra, describeInfra, phaseNames, progress, sleep, startRecorder, waitStored, type Infra } from './lib/pipeline';
import { compareDfg, pm4pyDfg, type CsvColumns, type Pm4pyDfg } from './lib/pm4py-dfg';
import { eventsToPm4pyCsv, importLog, inputLabel, publishEvents, readEventLines, storedSessions } from './lib/real-log-inputs';
import { Report, fmtNumber, table } from './lib/report';

/** Flags that may be given more than once; taken out of argv before the common parser sees it. */
const REPEATABLE = ['--xes', '--sessions'] as const;

function takeRepeatable(argv: string[]): { rest: string[]; xes: string[]; sessions: string[] } {
  const rest: string[] = [];
  const found: Record<string, string[]> = { '--xes': [], '--sessions': [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if ((REPEATABLE as readonly string[]).includes(flag)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) {
        console.error(`${flag} needs a file`);
        process.exit(2);
      }
      found[flag].push(v);
    } else rest.push(a);
  }
  return { rest, xes: found['--xes'], sessions: found['--sessions'] };
}

const repeated = takeRepeatable(process.argv.slice(2));

const cli = parseCli(
  {
    usage: 'node bench/dist/real-logs.bench.js --xes LOG ... --sessions EVENTS.jsonl ...',
    description: `
Runs the analyzer's real path on real logs and prints each figure beside a baseline measured in
the same run. Inputs (each repeatable, at least one): --xes FILE (.xes, .xes.gz or .csv: a process
log, imported with libs/log-import as a process, the CSV columns as --case-column etc. say) and
--sessions FILE (JSON lines of Toolpath events, e.g. from bench/tau/to-events.py, published with
the SDK). The bench never downloads anything; docs/ANALYZER.md "Measuring on real logs" says where
the public logs are.

For each input, one world per step size (its own stream, subject prefix, database and lock key):
the built analyzer (apps/analyzer/dist, schedule off, ANALYZER_PERSIST_EVERY = the step) as a
process, the input published to the stream, one incremental run requested over NATS; in the world
of the last step size the recorder runs too, and after the incremental run a full rebuild
(mode full, from the recorder's store). Figures per input:
 - sessions closed, beside pm4py's case count;
 - directly-follows exactness: the analyzer's graph of its closed sessions (its process map,
   flowStats over NATS = GET /api/v1/stats/flow; or, with --dfg-source journal, the sessions in
   its journal) against pm4py.discover_dfg (bench/pm4py/dfg.py in .data/venv-pm4py; a log with
   lifecycle start events or start timestamps: pm4py's interval view), for each step size and the
   rebuild: edges, starts and ends equal, and the number that differ; JSON-lines input is written
   as a CSV for pm4py (calls in seq order);
 - time: each run's own duration and its phases (count, after = listing patterns and inferring
   their workflows, ...) from its analyzer_runs row, beside pm4py's discover_dfg time; peak RSS of
   the analyzer (VmHWM of /proc/<pid>/status) after each world;
 - prediction top-1/top-3 (the analyzer's next-step model) beside the bigram baseline, and
   suggestion Jaccard beside the most-supported-pattern and plain-BM25 baselines: the recorded
   sessions (read back from the store) split by a hash of their intent (--test-share held out,
   or --folds k for k-fold cross-validation), evaluated with bench/lib/inference-eval.ts; top-1
   and top-3 over every position (the first tool from the intent) and after the first call;
 - counting, listing and inference in process over all recorded sessions (the mining library
   with its defaults: PatternCounter, patterns(), inferWorkflow), timed beside pm4py's
   discover_dfg; the bench's peak RSS (getrusage);
 - binding precision/recall and parallel-pair precision of every listed pattern's inferred
   workflow against the exhaustive ground truth of bench/lib/binding-eval.ts, beside its
   "first place seen once" binder and "rarer order >= 10 %" parallel baselines.
`,
    options: {
      xes: { kind: 'string', help: 'a process log: .xes, .xes.gz or .csv (repeatable)' },
      sessions: { kind: 'string', help: 'JSON lines of Toolpath events (repeatable)' },
      steps: { kind: 'string', default: '500,5000,20000', help: 'ANALYZER_PERSIST_EVERY of the incremental runs, comma-separated (the last also gets the rebuild)' },
      caseColumn: { kind: 'string', help: 'CSV case column, for the importer and pm4py (default: each one finds case:concept:name)' },
      activityColumn: { kind: 'string', help: 'CSV activity column (default: concept:name)' },
      timestampColumn: { kind: 'string', help: 'CSV timestamp column (default: time:timestamp)' },
      importer: { kind: 'pairs', help: 'another importer flag, e.g. --importer intent-column=intent (repeatable)' },
      interval: { kind: 'string', default: 'auto', help: "compare with pm4py's interval view: auto (when the log has lifecycle start events or start timestamps), on, off" },
      testShare: { kind: 'number', default: 0.2, help: 'share of the sessions held out for prediction and suggestions' },
      splitSeed: { kind: 'int', default: 1, help: 'changes which sessions are held out' },
      folds: { kind: 'int', default: 1, help: 'more than 1: k-fold cross-validation (pooled) instead of one split, for small logs' },
      noRebuild: { kind: 'flag', help: 'skip the full rebuild (and the recorder)' },
      dfgSource: { kind: 'string', default: 'flow', help: "the analyzer's graph: flow (its process map) or journal (the sessions in its journal; the analyzer then runs with ANALYZER_COMPACT_RATIO=10, and a rebuild, which writes a snapshot, is not covered)" },
      analyzerEnv: { kind: 'pairs', help: 'setting passed to every analyzer, e.g. ANALYZER_MAX_STEPS=12 (repeatable)' },
      runMinutes: { kind: 'number', default: 20, help: 'bound on each analyzer run' },
      maxMinutes: { kind: 'number', default: 90, help: 'abort (and clean up) after this long' },
    },
  },
  repeated.rest,
);

const MB = 2 ** 20;
/** Compiled to bench/dist. */
const REPO = resolve(__dirname, '..', '..');
const TMP_DIR = join(REPO, '.data', 'real-logs-bench');

interface RunRow {
  durationMs: number | null;
  phases?: Record<string, number>;
  tenants: Record<string, { events: number; sessionsClosed: number; patterns: number; patternsChanged: number }>;
}

interface Input {
  kind: 'xes' | 'sessions';
  file: string;
  label: string;
}

/** One analyzer run measured. */
interface RunFigures {
  what: string;
  view: AnalyzerRunView;
  row: RunRow | null;
  wallMs: number;
  dfg?: AnalyzerDfg;
  dfgError?: string;
}



/** Requests a run and follows it until it ends (bounded by --run-minutes). */
async function runAnalyzer(infra: Infra, names: TestNames, analyzer: ServiceProcess, mode: 'incremental' | 'full'): Promise<{ view: AnalyzerRunView; row: RunRow | null; wallMs: number }> {
  const t0 = performance.now();
  const limit = t0 + cli.runMinutes * 60_000;
  let view = await askAnalyzer<AnalyzerRunView>(infra.nc, names, 'run', { tenantId: BENCH_TENANT, mode, waitMs: 5000 }, 120_000);
  while (view.status === 'running') {
    if (performance.now() > limit) throw new Error(`the ${mode} run did not end within ${cli.runMinutes} min`);
    if (analyzer.proc.exitCode !== null) throw new Error(`analyzer exited (${analyzer.proc.exitCode}):\n${analyzer.output().slice(-3000)}`);
    await sleep(500);
    try {
      view = await askAnalyzer<AnalyzerRunView>(infra.nc, names, 'getRun', { tenantId: BENCH_TENANT, runId: view.id }, 30_000);
    } catch (err) {
      // A run over a large log may keep the analyzer too busy to answer for a while: ask again.
      if ((err as { code?: string }).code !== 'TIMEOUT') throw err;
      progress(`${mode} run ${view.id}: the analyzer did not answer within 30 s (busy); asking again`);
    }
  }
  const wallMs = performance.now() - t0;
  if (view.status !== 'completed') throw new Error(`the ${mode} run ended ${view.status}: ${view.error ?? ''}`);
  const row = await infra.mongo.db(names.mongoDb).collection<RunRow & { _id: string }>(Collections.analyzerRuns).findOne({ _id: view.id });
  return { view, row, wallMs };
}

async function analyzerDfg(infra: Infra, names: TestNames, fromJournal: boolean): Promise<AnalyzerDfg> {
  if (fromJournal) return flowFromJournal(infra.mongo.db(names.mongoDb), BENCH_TENANT);
  const flow = await flowFromAnalyzer(infra.nc, names.subjectPrefix, BENCH_TENANT);
  if (!flow) throw new Error('the analyzer does not answer flowStats (built before the process map?): rebuild it, or use --dfg-source journal');
  return flow;
}

/**
 * The columns and delimiter pm4py reads a CSV with: the ones given, else the ones the importer
 * finds in the header (its own rules, so both read the same columns of any CSV).
 */
async function csvColumns(file: string): Promise<CsvColumns> {
  const given = { caseColumn: cli.caseColumn, activityColumn: cli.activityColumn, timestampColumn: cli.timestampColumn };
  if (!/\.(csv|tsv|txt)(\.gz)?$/i.test(file)) return given;
  const header = await firstLine(file);
  const delimiter = detectDelimiter(header);
  const mapping = { case: cli.caseColumn, activity: cli.activityColumn, timestamp: cli.timestampColumn };
  const found = resolveCsvColumns(header.split(delimiter).map((h) => h.replace(/^"|"$/g, '')), mapping);
  const name = (i: number | undefined): string | undefined => (i === undefined ? undefined : found.names[i]);
  return { caseColumn: name(found.case), activityColumn: name(found.activity), timestampColumn: name(found.timestamp), delimiter };
}

async function firstLine(file: string): Promise<string> {
  const src = openLogFile(file);
  let text = '';
  try {
    for await (const chunk of src.chunks) {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
      if (text.length > 1 << 20) break;
    }
  } finally {
    src.close();
  }
  return text;
}

function importerFlags(): string[] {
  const flags: string[] = [];
  if (cli.caseColumn) flags.push('--case-column', cli.caseColumn);
  if (cli.activityColumn) flags.push('--activity-column', cli.activityColumn);
  if (cli.timestampColumn) flags.push('--timestamp-column', cli.timestampColumn);
  for (const [k, v] of Object.entries(cli.importer)) flags.push(`--${k}`, ...(v === '' || v === 'true' ? [] : [v]));
  return flags;
}

/** pm4py's graph of the input: the event view, and the interval view when it applies. */
async function reference(input: Input, events: ToolEventInput[] | undefined): Promise<{ ref: Pm4pyDfg; eventView: Pm4pyDfg }> {
  const file = input.kind === 'xes' ? input.file : eventsToPm4pyCsv(events ?? [], join(TMP_DIR, `${input.label}.pm4py.csv`));
  const columns = input.kind === 'xes' ? await csvColumns(file) : {};
  progress(`${input.label}: pm4py.discover_dfg`);
  const eventView = pm4pyDfg(file, { columns });
  const interval = cli.interval === 'on' || (cli.interval === 'auto' && (eventView.lifecycleStarts > 0 || eventView.startTimestamps));
  return { ref: interval ? pm4pyDfg(file, { columns, interval: true }) : eventView, eventView };
}

/** Publishes the input into a world's stream; returns the events the stream acknowledged. */
async function publishInput(infra: Infra, names: TestNames, input: Input, events: ToolEventInput[] | undefined, deadline: number): Promise<{ published: number; note: string }> {
  if (input.kind === 'sessions') {
    const r = await publishEvents(infra.nc, events ?? [], { tenantId: BENCH_TENANT, subjectPrefix: names.subjectPrefix, deadline });
    return { published: r.published, note: `${r.published} events published with the SDK${r.refused ? `, ${r.refused} refused by the contract` : ''}` };
  }
  const s = await importLog(input.file, { tenantId: BENCH_TENANT, subjectPrefix: names.subjectPrefix, sourceId: input.label, flags: importerFlags(), timeoutMs: Math.max(60_000, deadline - performance.now()) });
  const skipped = s.skipped ? `, ${s.skipped} skipped (${JSON.stringify(s.skippedByReason)})` : '';
  return { published: s.published, note: `imported ${s.cases} cases: ${s.toolCalls} calls + ${s.sessionEnds} session_ends in ${(s.durationMs / 1000).toFixed(1)} s${skipped}${s.ignoredTransitions ? `, ${s.ignoredTransitions} lifecycle transitions not calls` : ''}` };
}

function sessionsWithoutCalls(events: ToolEventInput[]): number {
  const all = new Set<string>();
  const withCalls = new Set<string>();
  for (const e of events) {
    all.add(e.sessionId);
    if (e.kind === 'tool_call') withCalls.add(e.sessionId);
  }
  return all.size - withCalls.size;
}

function phasesText(p: Record<string, number> | undefined): string {
  if (!p || Object.keys(p).length === 0) return 'no phases recorded';
  return Object.entries(p)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');
}

/** Adds the exactness and size figures of one run against pm4py. */
function addExactness(report: Report, label: string, run: RunFigures, ref: Pm4pyDfg, eventView: Pm4pyDfg): Record<string, unknown> {
  const sessionsClosed = run.dfg?.cases ?? run.view.tenant.sessionsClosed;
  report.add({
    name: `${label}: sessions closed, ${run.what}`,
    value: sessionsClosed,
    unit: 'sessions',
    baseline: { name: 'pm4py cases', value: ref.cases, unit: 'cases' },
    note: `equal = exact; more = cases split, fewer = sessions not closed (yet) or merged; the run itself reported ${run.view.tenant.sessionsClosed} closed`,
  });
  if (!run.dfg) {
    report.note(`${label}, ${run.what}: no directly-follows graph (${run.dfgError ?? 'unknown'})`);
    return { what: run.what, dfg: run.dfgError };
  }
  const c = compareDfg(run.dfg, ref);
  let verdict = `edges ${c.edgesEqual ? 'equal' : 'DIFFER'}, starts ${c.startsEqual ? 'equal' : 'DIFFER'}, ends ${c.endsEqual ? 'equal' : 'DIFFER'}`;
  if (ref !== eventView) {
    // Which view the analyzer follows when it misses the interval view (e.g. pairs not merged).
    const e = compareDfg(run.dfg, eventView);
    verdict += `; against pm4py's event view (every event): ${e.differingEdges} edges, ${e.differingStarts + e.differingEnds} starts/ends differ`;
  }
  report.add({
    name: `${label}: directly-follows edges differing from pm4py, ${run.what}`,
    value: c.differingEdges,
    unit: 'edges',
    baseline: { name: `pm4py ${ref.view} view edges`, value: ref.edges.size, unit: 'edges' },
    target: { on: 'value', op: '<=', value: 0 },
    note: `${verdict}; starts differing ${c.differingStarts}, ends ${c.differingEnds}; sum of count errors ${c.edgeCountError}; graph from ${run.dfg.source}${run.dfg.exact ? '' : ` (not exact: ${run.dfg.notes.join('; ')})`}${c.examples.length ? `; e.g. ${c.examples.join('; ')}` : ''}`,
  });
  report.add({
    name: `${label}: starts + ends differing from pm4py, ${run.what}`,
    value: c.differingStarts + c.differingEnds,
    unit: 'activities',
    baseline: { name: 'pm4py start + end activities', value: ref.starts.size + ref.ends.size, unit: 'activities' },
    target: { on: 'value', op: '<=', value: 0 },
  });
  return { what: run.what, ...c, source: run.dfg.source, exact: run.dfg.exact };
}

function addRunTime(report: Report, label: string, run: RunFigures, ref: Pm4pyDfg): void {
  const ms = run.row?.durationMs ?? run.wallMs;
  report.add({
    name: `${label}: analyzer run, ${run.what}`,
    value: ms,
    unit: 'ms',
    baseline: { name: 'pm4py read + discover_dfg', value: (ref.readSeconds + ref.seconds) * 1000, unit: 'ms' },
    note: `request -> seen ended ${run.wallMs.toFixed(0)} ms; ms by phase: ${phasesText(run.row?.phases)}; ${run.view.eventsRead} events read, ${run.view.tenant.patterns} patterns listed`,
  });
  const p = run.row?.phases ?? {};
  if (p.count !== undefined) {
    report.add({ name: `${label}: counting (phase count), ${run.what}`, value: p.count, unit: 'ms', baseline: { name: 'pm4py discover_dfg', value: ref.seconds * 1000, unit: 'ms' } });
  }
  const listing = ['after', 'list', 'listing', 'infer', 'inference'].filter((k) => p[k] !== undefined);
  if (listing.length) {
    report.add({ name: `${label}: listing + inference (phase ${listing.join(' + ')}), ${run.what}`, value: listing.reduce((n, k) => n + p[k], 0), unit: 'ms', note: 'patterns listed and their workflows inferred and written' });
  }
}

/** Evaluates prediction and suggestions on a split of the recorded sessions. */
function addInference(report: Report, label: string, sessions: ClosedSession[]): Record<string, unknown> {
  const split = splitSessions(sessions, { testShare: cli.testShare, seed: cli.splitSeed, groupOf: groupByIntent });
  if (split.test.length === 0 || split.train.length === 0) {
    report.note(`${label}: prediction and suggestions: too few sessions to split (${sessions.length})`);
    return { inference: 'too few sessions' };
  }
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = cli.folds > 1 ? crossValidateInference(sessions, cli.folds, { seed: cli.splitSeed, groupOf: groupByIntent }) : evaluateInference(split);
  const ms = performance.now() - t0;
  const ns = r.nextStep;
  const how = cli.folds > 1 ? `${cli.folds}-fold cross-validation by a hash of the intent, pooled` : `split by a hash of the intent, share ${cli.testShare}`;
  const splitText = `${r.train} train / ${r.test} held-out sessions (${how}); ${ns.model.positions} positions (the first tool from the intent, then each next one)`;
  report.add({
    name: `${label}: next step top-1`,
    value: ns.model.top1,
    unit: '',
    baseline: { name: 'bigram (most frequent successor)', value: ns.bigram.top1, unit: '' },
    note: `${splitText}; without the intent ${fmtNumber(ns.modelNoIntent.top1)}, gapped counts (previous predictor) ${fmtNumber(ns.gapped.top1)}`,
  });
  report.add({
    name: `${label}: next step top-3`,
    value: ns.model.top3,
    unit: '',
    baseline: { name: 'bigram', value: ns.bigram.top3, unit: '' },
    note: `without the intent ${fmtNumber(ns.modelNoIntent.top3)}, gapped counts ${fmtNumber(ns.gapped.top3)}`,
  });
  const after = ns.afterFirstCall;
  report.add({
    name: `${label}: next step top-1 after the first call`,
    value: after.model.top1,
    unit: '',
    baseline: { name: 'bigram', value: after.bigram.top1, unit: '' },
    note: `${after.model.positions} positions (what the analyzer answers once a call was made); top-3 ${fmtNumber(after.model.top3)} (bigram ${fmtNumber(after.bigram.top3)})`,
  });
  const sg = r.suggestions;
  if (sg.ranker.sessions > 0) {
    const note = `${sg.ranker.sessions} held-out sessions with an intent; ${sg.patterns} patterns mined from the training sessions; unanswered: ranker ${sg.ranker.unanswered}, bm25 ${sg.bm25.unanswered}`;
    report.add({ name: `${label}: suggestion Jaccard (top suggestion vs session tools)`, value: sg.ranker.meanJaccard, unit: '', baseline: { name: 'most supported pattern', value: sg.mostSupported.meanJaccard, unit: '' }, note });
    report.add({ name: `${label}: suggestion Jaccard vs plain BM25`, value: sg.ranker.meanJaccard, unit: '', baseline: { name: 'BM25 over raw intents (previous ranker)', value: sg.bm25.meanJaccard, unit: '' } });
  } else {
    report.note(`${label}: suggestions: no held-out session has an intent`);
  }
  report.add({
    name: `${label}: inference evaluation (train + predict + rank, in process)`,
    value: ms,
    unit: 'ms',
    note: `seconds ${JSON.stringify(r.seconds)}; bench RSS ${(rssBefore / MB).toFixed(0)} -> ${(process.memoryUsage().rss / MB).toFixed(0)} MiB`,
  });
  return { inference: r };
}

/**
 * Counting, listing and inference in process over all recorded sessions (the mining library the
 * analyzer runs, with its defaults), timed; then the bindings and parallel steps of every listed
 * pattern judged by bench/lib/binding-eval.ts against its exhaustive ground truth.
 */
function addMiningAndBindings(report: Report, label: string, sessions: ClosedSession[], ref: Pm4pyDfg): Record<string, unknown> {
  const calls = sessions.reduce((n, s) => n + s.steps.length, 0);
  let t = performance.now();
  const counter = new PatternCounter({ tenantId: BENCH_TENANT });
  for (const s of sessions) counter.addSession(s);
  const countMs = performance.now() - t;
  t = performance.now();
  const listed = counter.patterns();
  const listMs = performance.now() - t;
  t = performance.now();
  const cases: EvalCase[] = listed.map((p) => {
    const occurrences = counter.occurrences(p.id);
    return { pattern: p, occurrences, inferred: inferWorkflow(p, occurrences) };
  });
  const inferMs = performance.now() - t;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  report.add({
    name: `${label}: counting in process (${calls.toLocaleString('en-US')} calls, ${sessions.length.toLocaleString('en-US')} sessions)`,
    value: countMs,
    unit: 'ms',
    baseline: { name: 'pm4py discover_dfg', value: ref.seconds * 1000, unit: 'ms' },
    note: `${Math.round(calls / Math.max(countMs / 1000, 1e-6)).toLocaleString('en-US')} calls/s; the mining library with its defaults, as the analyzer runs it`,
  });
  report.add({ name: `${label}: listing in process`, value: listMs, unit: 'ms', note: `${listed.length} patterns listed` });
  report.add({ name: `${label}: inferring their workflows in process`, value: inferMs, unit: 'ms', note: `${cases.length} workflows` });
  report.add({ name: `${label}: bench process peak RSS after counting, listing and inference`, value: peakRss / MB, unit: 'MiB', note: 'getrusage maxrss of the bench process (also holds the recorded sessions)' });
  const timings = { calls, sessions: sessions.length, countMs, listMs, inferMs, patterns: listed.length, peakRssMiB: peakRss / MB };

  const ours = scoreBindings(cases);
  const naive = scoreBindings(cases.map((c) => ({ ...c, inferred: naiveInference(c) })));
  if (ours.bindings === 0 && naive.bindings === 0 && ours.trueFlows === 0) {
    // Precision and recall of nothing against nothing would print as 1: say what it is instead.
    report.note(`${label}: bindings: no data flow in this log (0 bindings inferred, 0 by the baseline, 0 ground-truth flows over ${cases.length} patterns)`);
  } else {
    report.add({
      name: `${label}: binding precision`,
      value: ours.precision,
      unit: '',
      baseline: { name: 'first place seen once', value: naive.precision, unit: '' },
      note: `${ours.correct}/${ours.bindings} correct over ${ours.patterns} patterns (baseline ${naive.correct}/${naive.bindings}); ground truth: flows holding in >= 90 % of a pattern's occurrences`,
    });
    report.add({
      name: `${label}: binding recall`,
      value: ours.recall,
      unit: '',
      baseline: { name: 'first place seen once', value: naive.recall, unit: '' },
      note: `${ours.found}/${ours.trueFlows} (step, parameter) flows read by a correct binding`,
    });
  }
  const parallel = scoreParallel(cases);
  const parallelBase = scoreParallel(cases, DEFAULT_BINDING_EVAL, orderOnlyParallelPairs(0.1));
  report.add({
    name: `${label}: parallel-pair precision`,
    value: parallel.precision,
    unit: '',
    baseline: { name: 'rarer order >= 10 %', value: parallelBase.precision, unit: '' },
    note: `${parallel.correctPairs}/${parallel.predictedPairs} pairs (baseline ${parallelBase.correctPairs}/${parallelBase.predictedPairs}), ${parallel.patternsWithParallel}/${cases.length} patterns with parallel steps; ${parallel.truePairs} ground-truth pairs`,
  });
  return {
    mining: timings,
    bindings: { ours: { ...ours, wrong: ours.wrong.slice(0, 20) }, naive: { ...naive, wrong: naive.wrong.length } },
    parallel: { ours: { ...parallel, wrong: parallel.wrong.slice(0, 20) }, base: { ...parallelBase, wrong: parallelBase.wrong.length } },
  };
}

/**
 * Bytes the world's stream may hold (JetStream reserves a file stream's limit up front, so not
 * more than needed): ~4 KB an event, or 4x the log's text (50x a .gz: XES compresses ~10x) for a log file.
 */
function streamBytesFor(input: Input, events: ToolEventInput[] | undefined): number {
  const estimate = events ? events.length * 4096 : statSync(input.file).size * (input.file.endsWith('.gz') ? 50 : 4);
  return Math.max(256 * MB, Math.min(8 * 1024 * MB, Math.ceil(estimate)));
}

/** One world: stream, database, analyzer (and recorder), the input published, the runs measured. */
async function runWorld(
  infra: Infra,
  outer: Cleanup,
  input: Input,
  events: ToolEventInput[] | undefined,
  step: number,
  withRebuild: boolean,
  fromJournal: boolean,
  deadline: number,
): Promise<{ runs: RunFigures[]; publishNote: string; peakRss?: number; sessions?: ClosedSession[]; failures: string[] }> {
  const world = new Cleanup();
  outer.add(`world ${input.label} step ${step}`, () => world.run());
  try {
    const names = phaseNames(`rl${step}`, infra, world);
    const streamBytes = String(streamBytesFor(input, events));
    const recorder = withRebuild ? await startRecorder(names, { TOOLPATH_EVENTS_MAX_BYTES: streamBytes }, world) : undefined;
    const analyzer = await startService('analyzer', {
      ...isolatedEnv(names),
      ANALYZER_SCHEDULE: 'off',
      ANALYZER_PERSIST_EVERY: String(step),
      TOOLPATH_EVENTS_MAX_BYTES: streamBytes,
      TOOLPATH_EVENTS_MAX_AGE_HOURS: '24',
      LOG_LEVEL: 'warn',
      // Closed sessions read from the journal: keep them all there, none folded into a snapshot.
      ...(fromJournal ? { ANALYZER_COMPACT_RATIO: '10' } : {}),
      ...cli.analyzerEnv,
    });
    world.add('stop analyzer', () => analyzer.stop(60_000));
    const pid = analyzer.proc.pid!;

    progress(`${input.label}, step ${step}: publishing`);
    const pub = await publishInput(infra, names, input, events, deadline);

    const runs: RunFigures[] = [];
    const failures: string[] = [];
    progress(`${input.label}, step ${step}: incremental run`);
    const inc = await runAnalyzer(infra, names, analyzer, 'incremental');
    if (inc.view.eventsRead !== pub.published) progress(`${input.label}: the run read ${inc.view.eventsRead} of ${pub.published} events`);
    const incFig: RunFigures = { what: `incremental, step ${step}`, ...inc };
    try {
      incFig.dfg = await analyzerDfg(infra, names, fromJournal);
    } catch (err) {
      incFig.dfgError = (err as Error).message;
    }
    runs.push(incFig);

    let sessions: ClosedSession[] | undefined;
    if (withRebuild && recorder) {
      await waitStored(recorder, pub.published, { deadline, label: `${input.label}: recorder`, startedAt: performance.now() });
      progress(`${input.label}: full rebuild`);
      try {
        const full = await runAnalyzer(infra, names, analyzer, 'full');
        const fullFig: RunFigures = { what: 'full rebuild', ...full };
        try {
          fullFig.dfg = await analyzerDfg(infra, names, fromJournal);
        } catch (err) {
          fullFig.dfgError = (err as Error).message;
        }
        runs.push(fullFig);
      } catch (err) {
        // Reported, and the incremental figures and the evaluations still count.
        failures.push(`full rebuild failed: ${(err as Error).message}`);
      }
      progress(`${input.label}: reading the recorded sessions back`);
      sessions = await storedSessions(infra.mongo.db(names.mongoDb), BENCH_TENANT);
    }
    const peakRss = peakRssBytes(pid);
    return { runs, publishNote: pub.note, peakRss, sessions, failures };
  } finally {
    await world.run();
  }
}

/** Everything one input is measured with: pm4py's graph, one world per step size, the evaluations. */
async function measureInput(infra: Infra, cleanup: Cleanup, report: Report, summary: string[][], input: Input, steps: number[], fromJournal: boolean, deadline: number): Promise<void> {
  const events = input.kind === 'sessions' ? await readEventLines(input.file) : undefined;
  const { ref, eventView } = await reference(input, events);
  report.note(
    `${input.label}: pm4py ${ref.version} ${ref.view} view: ${ref.cases} cases, ${ref.events} events, ${ref.edges.size} edges, discover_dfg ${(ref.seconds * 1000).toFixed(1)} ms (read ${(ref.readSeconds * 1000).toFixed(0)} ms)${ref.view === 'interval' ? `; event view (every lifecycle event): ${eventView.events} events, ${eventView.edges.size} edges` : ''}`,
  );
  // Neither pm4py nor the process map counts a session without calls.
  const empty = events ? sessionsWithoutCalls(events) : 0;
  if (empty) report.note(`${input.label}: ${empty} input sessions have no tool call (no case for pm4py nor for the process map)`);
  const details: Record<string, unknown> = { pm4py: { view: ref.view, cases: ref.cases, events: ref.events, edges: ref.edges.size, seconds: ref.seconds } };
  const perRun: Array<Record<string, unknown>> = [];
  for (let i = 0; i < steps.length; i++) {
    const withRebuild = !cli.noRebuild && i === steps.length - 1;
    const w = await runWorld(infra, cleanup, input, events, steps[i], withRebuild, fromJournal, deadline);
    if (i === 0) report.note(`${input.label}: ${w.publishNote}`);
    for (const f of w.failures) report.note(`${input.label}, step ${steps[i]}: ${f}`);
    for (const run of w.runs) {
      perRun.push({ ...addExactness(report, input.label, run, ref, eventView), phases: run.row?.phases, durationMs: run.row?.durationMs, sessionsClosed: run.view.tenant.sessionsClosed, patterns: run.view.tenant.patterns });
      addRunTime(report, input.label, run, ref);
      const c = run.dfg ? compareDfg(run.dfg, ref) : undefined;
      summary.push([
        input.label,
        run.what,
        `${run.dfg?.cases ?? run.view.tenant.sessionsClosed} (${ref.cases})`,
        c ? String(c.edgesEqual) : 'n/a',
        c ? String(c.startsEqual) : 'n/a',
        c ? String(c.endsEqual) : 'n/a',
        c ? String(c.differingEdges) : 'n/a',
        `${(run.row?.durationMs ?? run.wallMs).toFixed(0)} (${((ref.readSeconds + ref.seconds) * 1000).toFixed(0)})`,
      ]);
    }
    if (w.peakRss !== undefined) {
      report.add({ name: `${input.label}: analyzer peak RSS (VmHWM), step ${steps[i]}${withRebuild ? ' + rebuild' : ''}`, value: w.peakRss / MB, unit: 'MiB', target: { on: 'value', op: '<=', value: 1024 } });
    }
    if (w.sessions) {
      progress(`${input.label}: evaluating prediction, suggestions and bindings on ${w.sessions.length} recorded sessions`);
      Object.assign(details, addInference(report, input.label, w.sessions), addMiningAndBindings(report, input.label, w.sessions, ref));
    }
  }
  if (cli.noRebuild) report.note(`${input.label}: prediction, suggestions and bindings need the recorded sessions: not evaluated with --no-rebuild`);
  details.runs = perRun;
  report.details[input.label] = details;
}

async function main(): Promise<void> {
  const inputs: Input[] = [
    ...repeated.xes.map((file) => ({ kind: 'xes' as const, file: resolve(file), label: inputLabel(file) })),
    ...repeated.sessions.map((file) => ({ kind: 'sessions' as const, file: resolve(file), label: inputLabel(file) })),
  ];
  if (inputs.length === 0) {
    console.error('give at least one --xes FILE or --sessions FILE (see --help)');
    process.exit(2);
  }
  for (const i of inputs) if (!existsSync(i.file)) throw new Error(`no such file: ${i.file}`);
  if (!['auto', 'on', 'off'].includes(cli.interval ?? '')) throw new Error(`--interval takes auto, on or off, got ${cli.interval}`);
  const steps = (cli.steps ?? '')
    .split(',')
    .map((s) => Number(s.trim().replace(/_/g, '')))
    .filter((n) => Number.isInteger(n) && n > 0 && n <= 200_000);
  if (steps.length === 0) throw new Error(`--steps needs step sizes in 1..200000, got ${cli.steps}`);

  const limitMs = cli.maxMinutes * 60_000;
  const deadline = performance.now() + limitMs - 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'real-logs.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  if (!['flow', 'journal'].includes(cli.dfgSource ?? '')) throw new Error(`--dfg-source takes flow or journal, got ${cli.dfgSource}`);
  const fromJournal = cli.dfgSource === 'journal';
  const report = new Report('real-logs', { inputs: inputs.map((i) => `${i.kind}:${i.label}`), steps, interval: cli.interval, testShare: cli.testShare, analyzerEnv: cli.analyzerEnv, rebuild: !cli.noRebuild });
  if (fromJournal) report.note("the directly-follows graphs come from the sessions in the analyzer's journal (--dfg-source journal); the rebuild writes a snapshot, so its graph is incomplete");
  const summary: string[][] = [['input', 'run', 'sessions (pm4py cases)', 'edges equal', 'starts equal', 'ends equal', 'edges differing', 'run ms (pm4py ms)']];
  try {
    report.setMachine(await describeInfra(infra));
    for (const input of inputs) {
      try {
        await measureInput(infra, cleanup, report, summary, input, steps, fromJournal, deadline);
      } catch (err) {
        // The other inputs are still measured; the run ends with an error status.
        report.note(`${input.label}: FAILED: ${(err as Error).message}`);
        progress(`${input.label} failed: ${(err as Error).stack ?? String(err)}`);
        process.exitCode = 1;
      }
    }
    report.print();
    console.log(`\ndirectly-follows graph against pm4py, per run:\n${table(summary)}`);
    report.write(cli.json);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(`real-logs.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
