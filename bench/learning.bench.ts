/**
 * Learning quality on synthetic logs with planted workflows (bench/lib/synthetic-logs.ts):
 * precision and recall of the planted workflows among the listed patterns, and the planted
 * data-flow bindings and parallel steps recovered by inferWorkflow, per noise level.
 * `node bench/dist/learning.bench.js --help` explains the options.
 */
import { inferWorkflow, PatternCounter, SessionAssembler, type ClosedSession, type InferredWorkflow } from '@toolpath/mining';
import { parseCli } from './lib/cli';
import { localMachineInfo } from './lib/local-machine';
import { scoreRecovery, type RecoveryScore } from './lib/planted-recovery';
import { Report, table } from './lib/report';
import { SyntheticLogs } from './lib/synthetic-logs';

const cli = parseCli({
  usage: 'node bench/dist/learning.bench.js',
  description: `
For each noise level, --sessions synthetic sessions (--workflows planted workflows, unrelated
calls interleaved with the given probability at each of the 2 slots between two workflow steps,
5% failing steps retried or ending the session, 15% noise-only sessions) go through the
SessionAssembler (as events) and the PatternCounter with default options; the listed patterns
(closed, order variants merged) are scored against the planted workflows, and inferWorkflow runs
on every listed pattern that matches one.
Baselines, same data: contiguous n-gram counting (no gaps; same support threshold and closedness)
for precision/recall, and inference from one order only (occurrences without order variants)
for the parallel steps. With --long-workflows, procedures of --long-steps tools (a parallel stage,
every fifth tool a loop called 1-5 times) are planted among the short ones, spread over the
popularity ranks; their recovery (listed whole, in one of their valid orders) is reported beside
the short workflows' recall in the same run.`,
  options: {
    sessions: { kind: 'int', default: 3000, help: 'sessions per noise level' },
    workflows: { kind: 'int', default: 12, help: 'planted workflows' },
    noise: { kind: 'string', default: '0,0.15,0.3,0.5', help: 'noise levels (comma-separated probabilities)' },
    seed: { kind: 'int', default: 42, help: 'generator seed' },
    longWorkflows: { kind: 'int', min: 0, default: 4, help: 'long procedures planted besides --workflows (--long-steps tools, loops and a parallel stage inside)' },
    longSteps: { kind: 'int', default: 25, help: 'tools of a long procedure' },
    listRatio: { kind: 'number', default: 0.01, help: 'listing: patterns in at least this share of sessions' },
    closedTolerance: { kind: 'number', default: 0.1, help: 'listing: a sub-pattern within this share of the support of longer ones is not listed' },
  },
});

const TARGET = 0.9;

function assemble(logs: SyntheticLogs): ClosedSession[] {
  const assembler = new SessionAssembler({ sessionIdleMs: 300_000 });
  const out: ClosedSession[] = [];
  let now = 0;
  for (const e of logs.events()) {
    assembler.add(e);
    now = Math.max(now, e.startedAt + e.durationMs);
    if (e.kind === 'session_end') out.push(...assembler.takeClosed(now));
  }
  out.push(...assembler.takeAll());
  return out;
}

/** Baseline miner: distinct contiguous n-grams per session, same threshold, strict closedness. */
function ngramPatterns(sessions: ClosedSession[], minSteps: number, maxSteps: number, threshold: number): string[][] {
  const support = new Map<string, number>();
  for (const s of sessions) {
    const tools = s.steps.map((x) => x.tool);
    const seen = new Set<string>();
    for (let i = 0; i < tools.length; i++) {
      for (let n = minSteps; n <= maxSteps && i + n <= tools.length; n++) {
        const key = tools.slice(i, i + n).join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          support.set(key, (support.get(key) ?? 0) + 1);
        }
      }
    }
  }
  const frequent = [...support].filter(([, c]) => c >= threshold);
  const closed = frequent.filter(([k, c]) => !frequent.some(([k2, c2]) => k2.length > k.length && c2 >= c && `\u0000${k2}\u0000`.includes(`\u0000${k}\u0000`)));
  return closed.map(([k]) => k.split('\u0000'));
}

function main(): void {
  const levels = (cli.noise ?? '0').split(',').map(Number);
  const report = new Report('learning', { sessions: cli.sessions, workflows: cli.workflows, noise: levels, seed: cli.seed }, localMachineInfo());
  const rows: string[][] = [['noise', 'listed', 'precision', 'recall', 'bindings', 'parallel', 'n-gram precision', 'n-gram recall', 'one-order parallel', 'strict closed: listed', 'precision', 'events', 'ms']];
  const perLevel: Record<string, RecoveryScore & { ngram: RecoveryScore; oneOrder: RecoveryScore; strictClosedDefaults: RecoveryScore }> = {};
  for (const noise of levels) {
    const t0 = performance.now();
    const logs = new SyntheticLogs({ seed: cli.seed, sessions: cli.sessions, workflows: cli.workflows, noise, longWorkflows: cli.longWorkflows, longWorkflowSteps: cli.longSteps });
    const sessions = assemble(logs);
    const events = sessions.reduce((n, s) => n + s.steps.length, 0);
    const counter = new PatternCounter();
    counter.addSessions(sessions);
    const listed = counter.patterns({ minSupport: Math.max(3, Math.ceil(cli.listRatio * sessions.length)), closedTolerance: cli.closedTolerance });
    const strict = scoreRecovery(logs.workflows, counter.patterns().map((p) => p.tools), () => undefined);
    const byTools = new Map(listed.map((p) => [p.tools.join('\u0000'), p]));
    const infer = (withVariants: boolean) => (_w: unknown, tools: string[]): InferredWorkflow | undefined => {
      const p = byTools.get(tools.join('\u0000'));
      return p ? inferWorkflow(p, counter.occurrences(p.id, { withVariants })) : undefined;
    };
    const score = scoreRecovery(logs.workflows, listed.map((p) => p.tools), infer(true));
    const oneOrder = scoreRecovery(logs.workflows, listed.map((p) => p.tools), infer(false));
    const o = counter.options;
    const ngram = scoreRecovery(logs.workflows, ngramPatterns(sessions, o.minSteps, o.maxSteps, Math.max(3, Math.ceil(cli.listRatio * sessions.length))), () => undefined);
    const long = logs.workflows.filter((w) => w.loops !== undefined);
    const short = logs.workflows.filter((w) => w.loops === undefined);
    const listedTools = listed.map((p) => p.tools);
    const longScore = scoreRecovery(long, listedTools, () => undefined);
    const shortScore = scoreRecovery(short, listedTools, () => undefined);
    const ms = performance.now() - t0;
    perLevel[String(noise)] = { ...score, ngram, oneOrder, strictClosedDefaults: { ...strict, falsePositives: strict.falsePositives.slice(0, 20) } };
    const pct = (x: number): string => x.toFixed(3);
    rows.push([
      String(noise),
      String(score.listed),
      pct(score.precision),
      pct(score.recall),
      `${pct(score.bindingRecall)} (${score.bindingsFound}/${score.bindingsPlanted})`,
      `${pct(score.parallelRecall)} (${score.parallelFound}/${score.parallelPlanted})`,
      pct(ngram.precision),
      pct(ngram.recall),
      pct(oneOrder.parallelRecall),
      String(strict.listed),
      pct(strict.precision),
      String(events),
      ms.toFixed(0),
    ]);
    const level = `noise ${noise}`;
    report.add({ name: `${level}: precision`, value: score.precision, unit: '', baseline: { name: 'contiguous n-grams', value: ngram.precision, unit: '' }, target: { on: 'value', op: '>=', value: TARGET } });
    report.add({ name: `${level}: recall`, value: score.recall, unit: '', baseline: { name: 'contiguous n-grams', value: ngram.recall, unit: '' }, target: { on: 'value', op: '>=', value: TARGET } });
    report.add({ name: `${level}: data-flow bindings recovered`, value: score.bindingRecall, unit: '', target: { on: 'value', op: '>=', value: TARGET } });
    report.add({
      name: `${level}: parallel steps recovered`,
      value: score.parallelRecall,
      unit: '',
      baseline: { name: 'inferred from one order only', value: oneOrder.parallelRecall, unit: '' },
      target: { on: 'value', op: '>=', value: TARGET },
    });
    if (long.length > 0) {
      report.add({
        name: `${level}: ${cli.longSteps}-step procedures listed whole (recall)`,
        value: longScore.recall,
        unit: '',
        baseline: { name: 'short workflows, same run', value: shortScore.recall, unit: '' },
        target: { on: 'value', op: '>=', value: TARGET },
        note: `${longScore.plantedFound}/${long.length} long, ${shortScore.plantedFound}/${short.length} short; longest listed ${Math.max(0, ...listed.map((p) => p.tools.length))} steps`,
      });
    }
    if (score.falsePositives.length) report.note(`${level}: not planted: ${score.falsePositives.slice(0, 5).join(' | ')}${score.falsePositives.length > 5 ? ' ...' : ''}`);
  }
  report.details.perLevel = perLevel;
  report.print();
  console.log(`\nper noise level (targets: precision, recall, bindings, parallel >= ${TARGET}):\n${table(rows)}`);
  report.write(cli.json);
}

main();
