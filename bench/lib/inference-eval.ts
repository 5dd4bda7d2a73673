/**
 * Evaluation of what the analyzer infers from sessions, against simple baselines measured on the
 * same split: next-step prediction (top-1 / top-3 against "the most frequent immediate successor
 * of the last tool") and suggestions by intent (mean Jaccard of the top suggestion's tools with
 * the held-out session's tools, against "the most supported pattern" and against plain BM25 over
 * the raw intents, the ranker the analyzer had before). Pure functions over ClosedSession arrays;
 * bench/inference.bench.ts and the real-logs bench call them.
 */
import { createHash } from 'node:crypto';
import MiniSearch from 'minisearch';
import { IntentPatternIndex, NextStepModel, rankProcedure, PatternCounter, type SessionStep, type ClosedSession, type MinedPattern, type PatternCounterOptions, type RankablePattern } from '@toolpath/mining';

// ---- input ----

interface RawEvent {
  kind?: string;
  sessionId?: string;
  tool?: string;
  seq?: number;
  startedAt?: number | string;
  durationMs?: number;
  success?: boolean;
  intent?: string;
  userId?: string;
  agentId?: string;
  parameters?: Record<string, unknown>;
  result?: unknown;
}

/** Events (JSON lines) to sessions: grouped by session id, ordered by seq then startedAt then file order. */
export function sessionsFromJsonLines(text: string, tenantId: string): { sessions: ClosedSession[]; skipped: number } {
  const bySession = new Map<string, { events: Array<RawEvent & { line: number }>; intent?: string; success?: boolean }>();
  let skipped = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let e: RawEvent;
    try {
      e = JSON.parse(line) as RawEvent;
    } catch {
      skipped++;
      return;
    }
    if (typeof e.sessionId !== 'string') {
      skipped++;
      return;
    }
    let s = bySession.get(e.sessionId);
    if (!s) bySession.set(e.sessionId, (s = { events: [] }));
    if (typeof e.intent === 'string' && !s.intent) s.intent = e.intent;
    if (e.kind === 'session_end') s.success = e.success === true;
    else if (e.kind === 'tool_call' && typeof e.tool === 'string') s.events.push({ ...e, line: i });
    else skipped++;
  });
  const ms = (v: number | string | undefined): number => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) || 0 : 0);
  const sessions: ClosedSession[] = [];
  for (const [sessionId, s] of bySession) {
    if (s.events.length === 0) continue;
    s.events.sort((a, b) => (a.seq !== undefined && b.seq !== undefined && a.seq !== b.seq ? a.seq - b.seq : ms(a.startedAt) - ms(b.startedAt) || a.line - b.line));
    const steps: SessionStep[] = s.events.map((e) => ({
      tool: e.tool as string,
      ...(e.parameters ? { parameters: e.parameters } : {}),
      ...(e.result !== undefined ? { result: e.result } : {}),
      success: e.success !== false,
      durationMs: e.durationMs ?? 0,
      startedAt: ms(e.startedAt),
    }));
    const first = s.events[0];
    sessions.push({
      tenantId,
      sessionId,
      ...(first.userId ? { userId: first.userId } : {}),
      ...(first.agentId ? { agentId: first.agentId } : {}),
      ...(s.intent ? { intent: s.intent } : {}),
      ...(s.success !== undefined ? { success: s.success, ended: true } : {}),
      steps,
      startedAt: steps[0].startedAt,
      endedAt: steps[steps.length - 1].startedAt,
      lastStreamSeq: 0,
    });
  }
  return { sessions, skipped };
}

// ---- split ---------------------------------------------------------------------------------

export interface SplitOptions {
  /** Share of the groups held out (default 0.2). */
  testShare?: number;
  /** Changes which groups are held out (default 1). */
  seed?: number;
  /**
   * Sessions with the same key land on the same side (default: the session id). Grouping by
   * intent text keeps repeated runs of one task (several trials of a benchmark task) from being
   * on both sides.
   */
  groupOf?: (s: ClosedSession) => string;
}

export interface Split {
  train: ClosedSession[];
  test: ClosedSession[];
}

/** Deterministic split by a hash of each session's group: same input, same split, in any order. */
export function splitSessions(sessions: ClosedSession[], opts: SplitOptions = {}): Split {
  const share = opts.testShare ?? 0.2;
  const seed = opts.seed ?? 1;
  const groupOf = opts.groupOf ?? ((s: ClosedSession) => s.sessionId);
  const train: ClosedSession[] = [];
  const test: ClosedSession[] = [];
  for (const s of sessions) {
    const h = createHash('sha1').update(`${seed}\u0000${groupOf(s)}`).digest().readUInt32BE(0) / 2 ** 32;
    (h < share ? test : train).push(s);
  }
  return { train, test };
}

/**
 * k-fold split: fold i holds out the groups whose hash falls in [i/k, (i+1)/k). Every session is
 * held out exactly once, which steadies the figures of small data sets (50 tasks).
 */
export function foldSessions(sessions: ClosedSession[], folds: number, opts: Omit<SplitOptions, 'testShare'> = {}): Split[] {
  const k = Math.max(2, Math.floor(folds));
  const seed = opts.seed ?? 1;
  const groupOf = opts.groupOf ?? ((s: ClosedSession) => s.sessionId);
  const fold = sessions.map((s) => Math.min(k - 1, Math.floor((createHash('sha1').update(`${seed}\u0000${groupOf(s)}`).digest().readUInt32BE(0) / 2 ** 32) * k)));
  return Array.from({ length: k }, (_, i) => ({ train: sessions.filter((_, j) => fold[j] !== i), test: sessions.filter((_, j) => fold[j] === i) }));
}

/** Sessions grouped by intent text (sessions without one stay on their own). */
export const groupByIntent = (s: ClosedSession): string => (s.intent ? `i:${s.intent}` : `s:${s.sessionId}`);

const toolsOf = (s: ClosedSession): string[] => s.steps.map((x) => x.tool);

// ---- next step -----------------------------------------------------------------------------

/** Ranked guesses for the tool called after `prefix` (most likely first). */
export type NextStepPredictor = (prefix: string[], intent: string | undefined) => string[];

export interface NextStepScore {
  /** Positions predicted: every step of every held-out session (the first from nothing called yet). */
  positions: number;
  top1: number;
  top3: number;
}

/**
 * For every position i of every held-out session: is steps[i] among the guesses from steps[0..i)
 * (and the intent)? Position 0 is predicted from nothing called yet, as an agent asks before its
 * first call; `fromPosition` 1 leaves it out.
 */
export function scoreNextStep(test: ClosedSession[], predict: NextStepPredictor, fromPosition = 0): NextStepScore {
  let positions = 0;
  let hit1 = 0;
  let hit3 = 0;
  for (const s of test) {
    const tools = toolsOf(s);
    for (let i = Math.max(0, fromPosition); i < tools.length; i++) {
      const guesses = predict(tools.slice(0, i), s.intent);
      positions++;
      if (guesses[0] === tools[i]) hit1++;
      if (guesses.slice(0, 3).includes(tools[i])) hit3++;
    }
  }
  return { positions, top1: positions ? hit1 / positions : 0, top3: positions ? hit3 / positions : 0 };
}

/** Baseline: the most frequent immediate successors of the last tool in training (fallback: the most frequent tools). */
export function bigramPredictor(train: ClosedSession[]): NextStepPredictor {
  const follows = new Map<string, Map<string, number>>();
  const overall = new Map<string, number>();
  for (const s of train) {
    const tools = toolsOf(s);
    for (let i = 0; i < tools.length; i++) {
      overall.set(tools[i], (overall.get(tools[i]) ?? 0) + 1);
      if (i === 0) continue;
      let m = follows.get(tools[i - 1]);
      if (!m) follows.set(tools[i - 1], (m = new Map()));
      m.set(tools[i], (m.get(tools[i]) ?? 0) + 1);
    }
  }
  const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t);
  const fallback = ranked(overall);
  const cache = new Map<string, string[]>();
  return (prefix) => {
    if (prefix.length === 0) return fallback.slice(0, 10);
    const last = prefix[prefix.length - 1];
    let out = cache.get(last);
    if (!out) {
      const m = follows.get(last);
      // Fill up from the overall ranking, so top-3 always has three guesses when there are three tools.
      const first = m ? ranked(m) : [];
      out = [...first, ...fallback.filter((t) => !first.includes(t))].slice(0, 10);
      cache.set(last, out);
    }
    return out;
  };
}

/** The analyzer's model (libs/mining NextStepModel) trained on `train`. */
export function modelPredictor(train: ClosedSession[], useIntent = true): { predict: NextStepPredictor; model: NextStepModel } {
  const model = new NextStepModel();
  for (const s of train) model.addSession(s);
  return { model, predict: (prefix, intent) => model.predict(prefix, useIntent ? intent : undefined, 3).map((p) => p.tool) };
}

/** The analyzer's previous predictor: gapped counts of the pattern counter (PatternCounter.nextToolCounts). */
export function gappedPredictor(counter: PatternCounter): NextStepPredictor {
  return (prefix) => counter.nextToolCounts(prefix).next.map((n) => n.tool);
}

// ---- suggestions ---------------------------------------------------------------------------

export function jaccard(a: Iterable<string>, b: Iterable<string>): number {
  const A = new Set(a);
  const B = new Set(b);
  let inter = 0;
  for (const x of A) if (B.has(x)) inter++;
  const union = A.size + B.size - inter;
  return union === 0 ? 0 : inter / union;
}

/** The top suggestion's tools for an intent (undefined: no suggestion). */
export type IntentRanker = (intent: string) => string[] | undefined;

export interface SuggestionScore {
  /** Held-out sessions with an intent. */
  sessions: number;
  meanJaccard: number;
  /** Sessions the ranker had no suggestion for (they count 0). */
  unanswered: number;
}

export function scoreSuggestions(test: ClosedSession[], top: IntentRanker): SuggestionScore {
  let n = 0;
  let sum = 0;
  let unanswered = 0;
  for (const s of test) {
    if (!s.intent || s.steps.length === 0) continue;
    n++;
    const tools = top(s.intent);
    if (!tools) unanswered++;
    else sum += jaccard(tools, toolsOf(s));
  }
  return { sessions: n, meanJaccard: n ? sum / n : 0, unanswered };
}

/** Patterns as the analyzer lists them, from the real PatternCounter over the training sessions. */
export function minePatterns(train: ClosedSession[], opts: PatternCounterOptions = {}): { counter: PatternCounter; patterns: MinedPattern[] } {
  const tenantId = train[0]?.tenantId ?? 'eval';
  const counter = new PatternCounter({ ...opts, tenantId });
  for (const s of train) counter.addSession({ ...s, tenantId });
  return { counter, patterns: counter.patterns() };
}

/** Baseline 1: the most supported listed pattern, whatever the intent. */
export function mostSupportedRanker(patterns: MinedPattern[]): IntentRanker {
  const best = [...patterns].sort((a, b) => b.support - a.support || b.tools.length - a.tools.length)[0];
  return () => best?.tools;
}

/** The analyzer's stop words and suffix stripping before the entity masking (the previous ranker's). */
const OLD_STOP_WORDS = new Set(
  'a an the and or of to in on at for from by with without into onto about as is are be was were it its this that these those my our your their me us you i we they please can could would should will do does did how what which who when where why all any some new'.split(' '),
);
function oldProcessTerm(term: string): string | null {
  let t = term.toLowerCase();
  if (t.length === 0 || OLD_STOP_WORDS.has(t)) return null;
  if (t.length > 5 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith('ed')) t = t.slice(0, -2);
  else if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1);
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t;
}

/**
 * Baseline 2, the previous ranker: BM25 (minisearch) over the raw intents behind each pattern,
 * scores normalised by the best hit and weighted by 0.5 + 0.5 × confidence.
 */
export function bm25Ranker(patterns: MinedPattern[]): IntentRanker {
  const search = new MiniSearch<{ key: string; text: string }>({ idField: 'key', fields: ['text'], processTerm: oldProcessTerm, searchOptions: { combineWith: 'OR' } });
  search.addAll(patterns.map((p, i) => ({ key: String(i), text: p.intents.map((x) => x.text).join(' \n ') })));
  return (intent) => {
    const hits = search.search(intent);
    const top = hits[0]?.score ?? 0;
    if (top <= 0) return undefined;
    let best: { score: number; p: MinedPattern } | undefined;
    for (const h of hits) {
      const p = patterns[Number(h.id)];
      const score = (h.score / top) * (0.5 + 0.5 * p.confidence);
      if (!best || score > best.score || (score === best.score && p.support > best.p.support)) best = { score, p };
    }
    return best?.p.tools;
  };
}

/**
 * The analyzer's ranker as its suggestion index ranks learned workflows: the patterns
 * (libs/mining IntentPatternIndex) and the typical procedure of the sessions with similar
 * intents (rankProcedure), by score, with the intent neighbours of a NextStepModel trained on the
 * same sessions.
 */
export function analyzerRanker(patterns: MinedPattern[], model: NextStepModel): IntentRanker {
  const rankable: RankablePattern[] = patterns.map((p) => ({ key: p.id, tools: p.tools, intents: p.intents, support: p.support, confidence: p.confidence }));
  const index = new IntentPatternIndex(rankable);
  return (intent) => {
    const similarSessions = model.similarSessions(intent);
    const pattern = index.rank(intent, { similarSessions }, 1)[0];
    const procedure = rankProcedure(similarSessions);
    return procedure && (!pattern || procedure.score > pattern.score) ? procedure.procedure.tools : pattern?.pattern.tools;
  };
}

// ---- everything at once --------------------------------------------------------------------

export interface InferenceEval {
  train: number;
  test: number;
  /** Every position; `afterFirstCall`: positions 1.. only (what the analyzer answers once a call was made). */
  nextStep: { model: NextStepScore; modelNoIntent: NextStepScore; bigram: NextStepScore; gapped: NextStepScore; afterFirstCall: { model: NextStepScore; bigram: NextStepScore } };
  suggestions: { patterns: number; ranker: SuggestionScore; mostSupported: SuggestionScore; bm25: SuggestionScore };
  seconds: { train: number; predict: number; rank: number };
}

/** evaluateInference over k folds, pooled: hit rates over all positions, Jaccard over all held-out sessions. */
export function crossValidateInference(sessions: ClosedSession[], folds: number, opts: Omit<SplitOptions, 'testShare'> = {}, counterOptions: PatternCounterOptions = {}): InferenceEval {
  const parts = foldSessions(sessions, folds, opts).map((split) => evaluateInference(split, counterOptions));
  const pool = (get: (e: InferenceEval) => NextStepScore): NextStepScore => {
    const positions = parts.reduce((n, e) => n + get(e).positions, 0);
    const sum = (f: (x: NextStepScore) => number) => parts.reduce((n, e) => n + f(get(e)) * get(e).positions, 0) / Math.max(1, positions);
    return { positions, top1: sum((x) => x.top1), top3: sum((x) => x.top3) };
  };
  const poolJ = (get: (e: InferenceEval) => SuggestionScore): SuggestionScore => {
    const n = parts.reduce((m, e) => m + get(e).sessions, 0);
    return {
      sessions: n,
      meanJaccard: parts.reduce((m, e) => m + get(e).meanJaccard * get(e).sessions, 0) / Math.max(1, n),
      unanswered: parts.reduce((m, e) => m + get(e).unanswered, 0),
    };
  };
  return {
    train: Math.round(parts.reduce((n, e) => n + e.train, 0) / parts.length),
    test: parts.reduce((n, e) => n + e.test, 0),
    nextStep: {
      model: pool((e) => e.nextStep.model),
      modelNoIntent: pool((e) => e.nextStep.modelNoIntent),
      bigram: pool((e) => e.nextStep.bigram),
      gapped: pool((e) => e.nextStep.gapped),
      afterFirstCall: { model: pool((e) => e.nextStep.afterFirstCall.model), bigram: pool((e) => e.nextStep.afterFirstCall.bigram) },
    },
    suggestions: {
      patterns: Math.round(parts.reduce((n, e) => n + e.suggestions.patterns, 0) / parts.length),
      ranker: poolJ((e) => e.suggestions.ranker),
      mostSupported: poolJ((e) => e.suggestions.mostSupported),
      bm25: poolJ((e) => e.suggestions.bm25),
    },
    seconds: {
      train: parts.reduce((n, e) => n + e.seconds.train, 0),
      predict: parts.reduce((n, e) => n + e.seconds.predict, 0),
      rank: parts.reduce((n, e) => n + e.seconds.rank, 0),
    },
  };
}

/** Trains on the split's training sessions, scores on its held-out ones, with every baseline. */
export function evaluateInference(split: Split, counterOptions: PatternCounterOptions = {}): InferenceEval {
  const t0 = performance.now();
  const { predict, model } = modelPredictor(split.train);
  const { counter, patterns } = minePatterns(split.train, counterOptions);
  const t1 = performance.now();
  const bigram = bigramPredictor(split.train);
  const nextStep = {
    model: scoreNextStep(split.test, predict),
    modelNoIntent: scoreNextStep(split.test, (p) => model.predict(p, undefined, 3).map((x) => x.tool)),
    bigram: scoreNextStep(split.test, bigram),
    gapped: scoreNextStep(split.test, gappedPredictor(counter)),
    afterFirstCall: { model: scoreNextStep(split.test, predict, 1), bigram: scoreNextStep(split.test, bigram, 1) },
  };
  const t2 = performance.now();
  const suggestions = {
    patterns: patterns.length,
    ranker: scoreSuggestions(split.test, analyzerRanker(patterns, model)),
    mostSupported: scoreSuggestions(split.test, mostSupportedRanker(patterns)),
    bm25: scoreSuggestions(split.test, bm25Ranker(patterns)),
  };
  const t3 = performance.now();
  return {
    train: split.train.length,
    test: split.test.length,
    nextStep,
    suggestions,
    seconds: { train: (t1 - t0) / 1000, predict: (t2 - t1) / 1000, rank: (t3 - t2) / 1000 },
  };
}
