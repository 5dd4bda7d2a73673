import { intentTerms } from './intent-terms';
import { jaccardOf } from './tool-overlap';
import { typicalProcedure, type TypicalProcedure } from './typical-procedure';

/** What ranking needs of a learned pattern (MinedPattern fits). */
export interface RankablePattern {
  key?: string;
  tools: string[];
  /** Intents of the sessions behind it, with their counts (MinedPattern.intents). */
  intents: ReadonlyArray<{ text: string; count: number }>;
  support: number;
  /** Wilson lower bound of the success rate (0..1); null when unknown. */
  confidence: number | null;
}

/** A past session with an intent like the query's (NextStepModel.similarSessions): what it called. */
export interface SimilarSession {
  tools: string[];
  /** Relative similarity of its intent to the query (the best is 1). */
  weight: number;
}

export interface IntentRankingEvidence {
  /** Sessions with similar intents; when given, relevance is the expected overlap with what they did. */
  similarSessions?: SimilarSession[];
}

export interface RankedPattern<P extends RankablePattern> {
  pattern: P;
  /** relevance × quality, what the ranking sorts by. */
  score: number;
  /** 0..1: how well the pattern answers the intent. */
  relevance: number;
  /** Expected Jaccard overlap of the pattern's tools with the tools of the sessions of similar intents (when known). */
  expectedOverlap?: number;
  /** Query terms (normalised, entities as slots) more frequent in the pattern's intents than overall. */
  matchedTerms: string[];
}

/** Dirichlet prior of the per-pattern intent language model, in intent-term occurrences. */
const MU = 20;
/** Quality weighting: a pattern of confidence 0 keeps this share of its relevance. */
const QUALITY_FLOOR = 0.75;
/**
 * Share of the relevance given by the intent-term match when similar sessions are known (the rest:
 * the expected overlap with them, which is what the suggestion is judged by; the term match then
 * only breaks near-ties — a larger share measured lower on every data set of the inference bench).
 */
const TERM_SHARE = 0.02;

/** How a pattern's quality weighs on its relevance: confidence 0 keeps 75 %, confidence 1 all of it. */
export function qualityWeight(confidence: number | null | undefined): number {
  return QUALITY_FLOOR + (1 - QUALITY_FLOOR) * (typeof confidence === 'number' && Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : 0);
}

/** The procedure of the sessions most like an intent, scored on the scale of RankedPattern. */
export interface RankedProcedure {
  procedure: TypicalProcedure;
  /** relevance × quality (the quality of unknown success: qualityWeight(null)). */
  score: number;
  relevance: number;
  expectedOverlap: number;
}

/**
 * The typical procedure of the similar sessions (typical-procedure.ts), scored like a pattern:
 * relevance = the expected overlap, plus the full term share (its sessions are the intent's
 * nearest by construction); quality = that of a pattern of unknown success, so a learned pattern
 * as relevant and proven successful ranks above it.
 */
export function rankProcedure(similar: ReadonlyArray<SimilarSession>): RankedProcedure | undefined {
  const procedure = typicalProcedure(similar);
  if (!procedure || !(procedure.expectedOverlap > 0)) return undefined;
  const relevance = (1 - TERM_SHARE) * procedure.expectedOverlap + TERM_SHARE;
  return { procedure, relevance, score: relevance * qualityWeight(null), expectedOverlap: procedure.expectedOverlap };
}

/**
 * Learned patterns ranked for an intent, by relevance combined with quality:
 *
 * - *Term match* (always): query likelihood of the normalised intent under each pattern's intent
 *   language model (its sessions' intents, Dirichlet-smoothed toward all patterns' intents),
 *   as a log-likelihood ratio against that background. A read-only prefix shared by every kind
 *   of request has intents like the background and scores near 0; the procedure that only
 *   "return" requests follow scores high for "return". Entities are slots, so names, order ids
 *   and zip codes match nothing in particular.
 * - *Expected overlap* (when sessions with similar intents are given): the weighted mean Jaccard
 *   of the pattern's tools with each such session's tools — the pattern a similar request would
 *   most likely follow, whole procedure included; a prefix covers part of it and scores less.
 *
 * Quality: relevance × (0.75 + 0.25 × confidence). Patterns with no relevance are left out.
 */
export function rankPatternsByIntent<P extends RankablePattern>(patterns: P[], intent: string | undefined, evidence: IntentRankingEvidence = {}, limit = 10): RankedPattern<P>[] {
  return new IntentPatternIndex(patterns).rank(intent, evidence, limit);
}

/** rankPatternsByIntent with the patterns' intents analysed once (build it when the patterns change, query it often). */
export class IntentPatternIndex<P extends RankablePattern> {
  /** term -> [pattern index, weighted count] */
  private readonly postings = new Map<string, Array<[number, number]>>();
  private readonly totals: Float64Array;
  private readonly background = new Map<string, number>();
  private backgroundTotal = 0;
  /** tool -> patterns using it (candidates for the expected overlap). */
  private readonly byTool = new Map<string, number[]>();
  private readonly toolSets: Set<string>[];

  constructor(readonly patterns: P[]) {
    this.totals = new Float64Array(patterns.length);
    this.toolSets = patterns.map((p) => new Set(p.tools));
    patterns.forEach((p, j) => {
      const tf = new Map<string, number>();
      for (const it of p.intents) {
        const c = Math.max(0, it.count);
        if (!(c > 0)) continue;
        for (const term of intentTerms(it.text)) {
          tf.set(term, (tf.get(term) ?? 0) + c);
          this.totals[j] += c;
        }
      }
      for (const [term, c] of tf) {
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push([j, c]);
        this.background.set(term, (this.background.get(term) ?? 0) + c);
      }
      this.backgroundTotal += this.totals[j];
      for (const t of this.toolSets[j]) {
        let list = this.byTool.get(t);
        if (!list) this.byTool.set(t, (list = []));
        list.push(j);
      }
    });
  }

  get size(): number {
    return this.patterns.length;
  }

  rank(intent: string | undefined, evidence: IntentRankingEvidence = {}, limit = 10, accept?: (p: P) => boolean): RankedPattern<P>[] {
    const query = [...new Set(intentTerms(intent))].filter((t) => this.background.has(t));
    const similar = (evidence.similarSessions ?? []).filter((s) => s.weight > 0 && s.tools.length > 0);
    if ((query.length === 0 && similar.length === 0) || this.patterns.length === 0 || limit <= 0) return [];
    // Log-likelihood ratio of the query under each pattern's smoothed intent model vs the background.
    // A pattern none of whose intents has a query term scores below 0 (clamped): only posted ones count.
    const n = this.patterns.length;
    const sims = new Float64Array(n);
    const touched: number[] = [];
    const seen = new Uint8Array(n);
    // Which query terms a pattern's intents use more than the background does (the first 31 terms: a bit each).
    const matched = new Uint32Array(n);
    query.forEach((term, i) => {
      const pbg = (this.background.get(term) as number) / this.backgroundTotal;
      for (const [j, c] of this.postings.get(term) ?? []) {
        if (seen[j] === 0) {
          seen[j] = 1;
          touched.push(j);
        }
        const llr = Math.log((c + MU * pbg) / ((this.totals[j] + MU) * pbg));
        sims[j] += llr - Math.log(MU / (this.totals[j] + MU));
        if (llr > 0 && i < 31) matched[j] |= 1 << i;
      }
    });
    // Add the part every pattern gets for the terms it lacks: log(MU / (total + MU)) per query term.
    let bestSim = 0;
    for (const j of touched) {
      sims[j] = Math.max(0, sims[j] + query.length * Math.log(MU / (this.totals[j] + MU)));
      if (sims[j] > bestSim) bestSim = sims[j];
    }
    const weightSum = similar.reduce((m, x) => m + x.weight, 0);
    if (weightSum > 0) {
      const sessionTools = new Set(similar.flatMap((x) => x.tools));
      for (const t of sessionTools) {
        for (const j of this.byTool.get(t) ?? []) {
          if (seen[j] === 0) {
            seen[j] = 1;
            touched.push(j);
          }
        }
      }
    }
    const sessionSets = similar.map((x) => new Set(x.tools));
    // Scores first (numbers only); result objects for the few returned.
    const relevance = new Float64Array(n);
    const overlap = new Float64Array(n);
    const score = new Float64Array(n);
    const kept: number[] = [];
    for (const j of touched) {
      const p = this.patterns[j];
      if (accept && !accept(p)) continue;
      const term = bestSim > 0 ? sims[j] / bestSim : 0;
      let r = term;
      if (weightSum > 0) {
        let e = 0;
        for (let k = 0; k < similar.length; k++) e += similar[k].weight * jaccardOf(this.toolSets[j], sessionSets[k]);
        overlap[j] = e / weightSum;
        r = (1 - TERM_SHARE) * overlap[j] + TERM_SHARE * term;
      }
      if (!(r > 0)) continue;
      relevance[j] = r;
      score[j] = r * qualityWeight(p.confidence);
      kept.push(j);
    }
    const pats = this.patterns;
    kept.sort((x, y) => score[y] - score[x] || pats[y].tools.length - pats[x].tools.length || pats[y].support - pats[x].support || compareTools(pats[x].tools, pats[y].tools));
    return kept.slice(0, limit).map((j) => ({
      pattern: pats[j],
      score: score[j],
      relevance: relevance[j],
      ...(weightSum > 0 ? { expectedOverlap: overlap[j] } : {}),
      matchedTerms: query.filter((_, i) => i < 31 && (matched[j] & (1 << i)) !== 0),
    }));
  }
}

function compareTools(a: string[], b: string[]): number {
  const x = a.join('\u0001');
  const y = b.join('\u0001');
  return x < y ? -1 : x > y ? 1 : 0;
}
