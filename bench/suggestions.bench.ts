/**
 * Suggestion lookup with 10,000 learned workflows, beside a bare minisearch query over the same
 * documents.
 *
 *   node bench/dist/suggestions.bench.js [--workflows N] [--queries Q] [--json FILE]
 *
 * The analyzer's SuggestionIndex (learned workflows ranked by the intents behind them, normalised
 * and matched as a smoothed language model by libs/mining IntentPatternIndex; the "tools already
 * called" match, scoring, ranking and reasons) is built from N synthetic learned workflows; Q
 * queries (an intent of 2–5 words, half of them also with 1–2 tools already called) are timed one
 * by one. Baseline: `MiniSearch.search(intent)` on an index of the same texts with default options,
 * nothing else. Needs a built analyzer (`npx tsc -b apps/analyzer`). No server is used.
 */
import { performance } from 'node:perf_hooks';
import MiniSearch from 'minisearch';
import { SuggestionIndex, type SuggestDoc } from '@toolpath/analyzer/dist/suggestions/suggestion-index';
import { parseCli } from './lib/cli';
import { localMachineInfo } from './lib/local-machine';
import { Report, quantile } from './lib/report';
import { Random } from './lib/synthetic-logs';

const TARGET_P95_MS = 20;

const spec = {
  usage: 'node bench/dist/suggestions.bench.js',
  description: 'Suggestion lookup p95 with N learned workflows, beside a bare minisearch query over the same documents.',
  options: {
    workflows: { kind: 'int', default: 10_000, help: 'learned workflows in the index', min: 1 },
    queries: { kind: 'int', default: 2_000, help: 'timed queries', min: 10 },
    seed: { kind: 'int', default: 7, help: 'random seed' },
    vocabulary: { kind: 'int', default: 5_000, help: 'distinct words of the Zipf-distributed intents (the realistic case)', min: 10 },
  },
} as const;

const VERBS = ['review', 'triage', 'deploy', 'refund', 'summarise', 'invoice', 'archive', 'migrate', 'audit', 'backup', 'restore', 'translate', 'classify', 'schedule', 'notify', 'escalate', 'approve', 'reconcile', 'export', 'import'];
const NOUNS = ['pull request', 'bug report', 'customer order', 'release', 'database', 'ticket', 'invoice', 'payment', 'document', 'meeting', 'contract', 'dataset', 'incident', 'alert', 'shipment', 'account', 'report', 'email', 'build', 'subscription'];
const QUALIFIERS = ['urgent', 'weekly', 'failed', 'new', 'large', 'enterprise', 'internal', 'quarterly', 'pending', 'duplicate'];

type Phrase = (rnd: Random) => string;

/** Ranks of the function words (the, a, to, ...): the stop list removes them, so content words start after. */
const FUNCTION_WORDS = 100;

/**
 * Content words drawn with Zipf frequencies (rank r with probability ∝ 1/r, as in natural text),
 * ranks FUNCTION_WORDS+1 .. FUNCTION_WORDS+vocabulary.
 */
function zipfPhrase(vocabulary: number): { intent: Phrase; query: Phrase } {
  const words = Array.from({ length: vocabulary }, (_, i) => `word${i.toString(36)}x`);
  const cumulative: number[] = [];
  let sum = 0;
  for (let r = 1; r <= vocabulary; r++) cumulative.push((sum += 1 / (r + FUNCTION_WORDS)));
  const pick = (rnd: Random) => {
    const x = rnd.next() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo];
  };
  const phrase = (min: number, spread: number) => (rnd: Random) => Array.from({ length: min + rnd.int(spread) }, () => pick(rnd)).join(' ');
  return { intent: phrase(3, 4), query: phrase(2, 3) };
}

/** 50 words in fixed verb–qualifier–noun phrases: every query word hits a twentieth of all workflows (a stress case). */
function densePhrase(): { intent: Phrase; query: Phrase } {
  return {
    intent: (rnd) => `${VERBS[rnd.int(VERBS.length)]} the ${QUALIFIERS[rnd.int(QUALIFIERS.length)]} ${NOUNS[rnd.int(NOUNS.length)]}`,
    query: (rnd) => [VERBS[rnd.int(VERBS.length)], QUALIFIERS[rnd.int(QUALIFIERS.length)], NOUNS[rnd.int(NOUNS.length)]].slice(0, 2 + rnd.int(2)).join(' '),
  };
}

interface CaseResult {
  ours: number[];
  base: number[];
  buildMs: number;
  meanResults: number;
}

function measure(args: { workflows: number; queries: number; seed: number }, phrases: { intent: Phrase; query: Phrase }): CaseResult {
  const rnd = new Random(args.seed);
  const tools = Array.from({ length: 500 }, (_, i) => `svc${i % 40}.op${i}`);
  const docs: SuggestDoc[] = [];
  for (let i = 0; i < args.workflows; i++) {
    const len = 3 + rnd.int(4);
    const seqTools = Array.from({ length: len }, () => tools[rnd.int(tools.length)]);
    const intents = Array.from({ length: 1 + rnd.int(4) }, () => phrases.intent(rnd));
    const support = 3 + rnd.int(200);
    docs.push({
      key: `p:${i}`,
      kind: 'pattern',
      patternId: `p${i}`,
      source: 'learned',
      name: `Learned: ${seqTools.join(' → ')}`,
      tools: seqTools,
      confidence: 0.5 + rnd.next() * 0.5,
      support,
      successRate: 0.7 + rnd.next() * 0.3,
      text: intents.join(' \n '),
      topIntent: intents[0],
      supportByUser: {},
      supportByAgent: {},
      workflow: { name: `w${i}`, source: 'learned', steps: seqTools.map((tool, k) => ({ id: `s${k}`, tool, parameters: {} })) },
    });
  }
  const queries = Array.from({ length: args.queries }, () => {
    const called = rnd.chance(0.5) ? docs[rnd.int(docs.length)].tools.slice(0, 1 + rnd.int(2)) : [];
    return { intent: phrases.query(rnd), tools: called };
  });

  const buildStart = performance.now();
  const index = new SuggestionIndex(docs);
  const buildMs = performance.now() - buildStart;
  const bare = new MiniSearch<{ key: string; text: string }>({ idField: 'key', fields: ['text'] });
  bare.addAll(docs.map((d) => ({ key: d.key, text: d.text })));

  // Warm-up, then the two modes alternate query by query so load changes hit both alike.
  for (const q of queries.slice(0, 100)) {
    index.query({ ...q, limit: 5 });
    bare.search(q.intent);
  }
  const ours: number[] = [];
  const base: number[] = [];
  let returned = 0;
  for (const q of queries) {
    let t = performance.now();
    returned += index.query({ ...q, limit: 5 }).length;
    ours.push(performance.now() - t);
    t = performance.now();
    bare.search(q.intent);
    base.push(performance.now() - t);
  }
  ours.sort((a, b) => a - b);
  base.sort((a, b) => a - b);
  return { ours, base, buildMs, meanResults: returned / queries.length };
}

function main(): void {
  const args = parseCli(spec);
  const report = new Report('suggestions', { workflows: args.workflows, queries: args.queries, seed: args.seed, vocabulary: args.vocabulary }, localMachineInfo());
  const zipf = measure(args, zipfPhrase(args.vocabulary));
  const dense = measure(args, densePhrase());
  report.add({
    name: 'suggestion lookup p95',
    value: quantile(zipf.ours, 0.95),
    unit: 'ms',
    baseline: { name: 'bare minisearch search p95, same documents', value: quantile(zipf.base, 0.95), unit: 'ms' },
    target: { on: 'value', op: '<=', value: TARGET_P95_MS },
    note: `intents of 3-6 content words from a Zipf vocabulary of ${args.vocabulary} words (ranks after the ${FUNCTION_WORDS} function words)`,
  });
  report.add({ name: 'suggestion lookup p50', value: quantile(zipf.ours, 0.5), unit: 'ms', baseline: { name: 'bare minisearch search p50', value: quantile(zipf.base, 0.5), unit: 'ms' } });
  report.add({ name: 'suggestion lookup p99', value: quantile(zipf.ours, 0.99), unit: 'ms', baseline: { name: 'bare minisearch search p99', value: quantile(zipf.base, 0.99), unit: 'ms' } });
  report.add({
    name: 'stress: 50-word vocabulary, p95',
    value: quantile(dense.ours, 0.95),
    unit: 'ms',
    baseline: { name: 'bare minisearch search p95', value: quantile(dense.base, 0.95), unit: 'ms' },
    note: 'every query word is in about a twentieth of all workflows, so BM25 itself scores thousands of documents per query',
  });
  report.add({ name: 'index build', value: zipf.buildMs, unit: 'ms', note: `${args.workflows} workflows, once per run of the analyzer for a tenant whose patterns changed` });
  report.details.meanResults = { zipf: zipf.meanResults, dense: dense.meanResults };
  report.note('the lookup does more than a BM25 search: entity masking, stop words and suffix stripping, the intent language model over the learned workflows, the tools-already-called match, quality scoring, ranking (catalog before learned) and reasons');
  report.note('ranking quality (which workflow comes first) is measured by bench/inference.bench.ts');
  report.note('both modes alternate query by query in one process, so machine load (reported above) weighs on both alike');
  report.print();
  report.write(args.json);
}

main();
