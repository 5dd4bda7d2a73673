/**
 * Next-step prediction and suggestions by intent, each beside its baselines on the same split.
 * `node bench/dist/inference.bench.js --help` explains the options.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ClosedSession } from '@toolpath/mining';
import { parseCli } from './lib/cli';
import { crossValidateInference, evaluateInference, groupByIntent, jaccard, sessionsFromJsonLines, splitSessions, type InferenceEval } from './lib/inference-eval';
import { localMachineInfo } from './lib/local-machine';
import { Report } from './lib/report';
import { SyntheticLogs } from './lib/synthetic-logs';

const cli = parseCli({
  usage: 'node bench/dist/inference.bench.js',
  description: `
Next-step prediction and suggestions by intent on held-out sessions (bench/lib/inference-eval.ts).
Each data set is split (k-fold, --folds) by a hash of the session id (or of the intent, --group-by intent: repeated
runs of one task stay on one side); the analyzer's next-step model (libs/mining NextStepModel)
and the real PatternCounter learn from the training part.
Next step: for every step of every held-out session, the tool is predicted from
the calls before it (none for the first) and the intent; top-1 / top-3 hit rates (also shown
for the steps after the first call only). Baseline: the most frequent immediate
successor of the last tool in training (fallback: the most frequent tools). Also shown: the
previous predictor (the counter's gapped counts) and the model without the intent.
Suggestions: mean Jaccard of the top suggestion's tools with the held-out session's tools (no
suggestion counts 0). Baselines: the most supported listed pattern, and the previous ranker (BM25
over the raw intents behind each pattern, weighted by confidence).
Data sets: --sessions FILE (JSON lines of events as the SDKs send them: kind, sessionId, tool,
seq, startedAt, intent, success; repeatable as a comma-separated list) and --planted (synthetic
logs with planted workflows, bench/lib/synthetic-logs.ts).`,
  options: {
    sessions: { kind: 'string', help: 'comma-separated JSON-lines event files, one data set each' },
    planted: { kind: 'flag', help: 'also the planted synthetic logs' },
    plantedSessions: { kind: 'int', default: 3000, help: 'planted: sessions' },
    plantedNoise: { kind: 'number', default: 0.3, help: 'planted: probability of an unrelated call at each of the 2 slots between two steps' },
    folds: { kind: 'int', default: 5, help: 'k-fold cross-validation: every session held out once, figures pooled (1 = one split, --test-share held out)' },
    testShare: { kind: 'number', default: 0.2, help: 'with --folds 1: share of the sessions held out' },
    seed: { kind: 'int', default: 1, help: 'split seed' },
    groupBy: { kind: 'string', default: 'session', help: 'split unit: session or intent' },
    margin: { kind: 'number', default: 0.05, help: 'next step: target margin over the bigram baseline on the data sets --margin-on names (elsewhere: not below it)' },
    marginOn: { kind: 'string', default: 'retail|planted', help: 'regular expression: data sets (file names) held to --margin' },
    suggestionMargin: { kind: 'number', default: 0.1, help: 'suggestions: target margin over the better baseline' },
  },
});

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function addFigures(report: Report, name: string, e: InferenceEval): void {
  const ns = e.nextStep;
  const margin = new RegExp(cli.marginOn ?? '^$', 'i').test(name) ? cli.margin : 0;
  report.add({
    name: `${name}: next step top-1`,
    value: r3(ns.model.top1),
    unit: '',
    baseline: { name: 'bigram: most frequent successor of the last tool', value: r3(ns.bigram.top1), unit: '' },
    target: { on: 'value', op: '>=', value: r3(ns.bigram.top1 + margin) },
    note: `${ns.model.positions} positions; without the intent ${r3(ns.modelNoIntent.top1)}; previous (gapped counts) ${r3(ns.gapped.top1)}; after the first call only ${r3(ns.afterFirstCall.model.top1)} vs bigram ${r3(ns.afterFirstCall.bigram.top1)}`,
  });
  report.add({
    name: `${name}: next step top-3`,
    value: r3(ns.model.top3),
    unit: '',
    baseline: { name: 'bigram', value: r3(ns.bigram.top3), unit: '' },
    target: { on: 'value', op: '>=', value: r3(ns.bigram.top3 + margin) },
    note: `without the intent ${r3(ns.modelNoIntent.top3)}; previous (gapped counts) ${r3(ns.gapped.top3)}; after the first call only ${r3(ns.afterFirstCall.model.top3)} vs bigram ${r3(ns.afterFirstCall.bigram.top3)}`,
  });
  const sg = e.suggestions;
  report.details[name] = e;
  if (sg.ranker.sessions === 0) {
    report.note(`${name}: no held-out session has an intent, so suggestions by intent are not measured`);
    return;
  }
  const better = sg.mostSupported.meanJaccard >= sg.bm25.meanJaccard ? { name: 'most supported pattern', v: sg.mostSupported.meanJaccard } : { name: 'previous ranker (BM25 on raw intents)', v: sg.bm25.meanJaccard };
  report.add({
    name: `${name}: suggestion Jaccard`,
    value: r3(sg.ranker.meanJaccard),
    unit: '',
    baseline: { name: better.name, value: r3(better.v), unit: '' },
    target: { on: 'value', op: '>=', value: r3(better.v + cli.suggestionMargin) },
    note: `${sg.ranker.sessions} held-out sessions, ${sg.patterns} patterns listed; most supported ${r3(sg.mostSupported.meanJaccard)}, BM25 ${r3(sg.bm25.meanJaccard)}; unanswered ${sg.ranker.unanswered} (BM25 ${sg.bm25.unanswered})`,
  });
}

function evaluate(sessions: ClosedSession[], groupOf: ((s: ClosedSession) => string) | undefined): InferenceEval {
  const opts = { seed: cli.seed, ...(groupOf ? { groupOf } : {}) };
  return cli.folds > 1 ? crossValidateInference(sessions, cli.folds, opts) : evaluateInference(splitSessions(sessions, { ...opts, testShare: cli.testShare }));
}

function main(): void {
  const report = new Report(
    'inference',
    { sessions: cli.sessions ?? null, planted: cli.planted, folds: cli.folds, testShare: cli.testShare, seed: cli.seed, groupBy: cli.groupBy },
    localMachineInfo(),
  );
  if (cli.groupBy !== 'session' && cli.groupBy !== 'intent') throw new Error(`--group-by must be session or intent, got ${cli.groupBy}`);
  const groupOf = cli.groupBy === 'intent' ? groupByIntent : undefined;
  const files = (cli.sessions ?? '').split(',').filter((f) => f !== '');
  if (files.length === 0 && !cli.planted) {
    console.error('nothing to measure: give --sessions FILE and/or --planted (see --help)');
    process.exit(2);
  }
  for (const file of files) {
    const { sessions, skipped } = sessionsFromJsonLines(readFileSync(file, 'utf8'), 'eval');
    addFigures(report, basename(file), evaluate(sessions, groupOf));
    if (skipped > 0) report.note(`${basename(file)}: ${skipped} lines skipped (not JSON, no session id, or neither tool_call nor session_end)`);
  }
  if (cli.planted) {
    const logs = new SyntheticLogs({ sessions: cli.plantedSessions, noise: cli.plantedNoise, tenantId: 'eval' });
    const sessions = [...logs.sessions()];
    const name = `planted (noise ${cli.plantedNoise})`;
    addFigures(report, name, evaluate(sessions, undefined));
    // What a ranker that always names the session's planted workflow would score: the noise calls
    // of a session are in no pattern, so this is the honest ceiling of the suggestion figure.
    const withWorkflow = sessions.filter((s) => s.workflow);
    const workflowTools = new Map(logs.workflows.map((w) => [w.name, w.tools]));
    const ceiling = withWorkflow.reduce((n, s) => n + jaccard(workflowTools.get(s.workflow as string) ?? [], s.steps.map((x) => x.tool)), 0) / sessions.length;
    const measured = report.details[name] as InferenceEval | undefined;
    const sg = measured?.suggestions;
    const wanted = sg ? Math.max(sg.mostSupported.meanJaccard, sg.bm25.meanJaccard) + cli.suggestionMargin : undefined;
    const above = wanted !== undefined && wanted > ceiling ? `; the suggestion target ${r3(wanted)} is above it, so no ranker can meet it on these logs` : '';
    report.note(`${name}: a ranker naming each session's planted workflow would score a suggestion Jaccard of ${r3(ceiling)} (noise-only sessions count 0)${above}`);
  }
  report.note(`${cli.folds > 1 ? `${cli.folds}-fold cross-validation` : 'one split'} by a hash of the session id (or intent): the same file always gives the same split; every method sees the same folds`);
  report.print();
  report.write(cli.json);
}

if (require.main === module) main();
