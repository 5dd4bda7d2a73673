import MiniSearch from 'minisearch';
import type { Suggestion } from '@toolpath/contracts';
import { IntentPatternIndex, intentTerms, procedureKey, procedureWorkflow, qualityWeight, rankProcedure, type MinedPattern, type RankablePattern, type SimilarSession, type TypicalProcedure } from '@toolpath/mining';

/**
 * One suggestible workflow: a catalog workflow, a learned pattern above the confidence threshold,
 * or (made per query) the typical procedure of the sessions with the most similar intents.
 */
export interface SuggestDoc {
  key: string;
  kind: 'catalog' | 'pattern' | 'procedure';
  workflowId?: string;
  patternId?: string;
  source: Suggestion['source'];
  name: string;
  description?: string;
  tools: string[];
  confidence: number | null;
  support: number;
  successRate: number | null;
  /** What BM25 matches an intent against (catalog workflows): name, description, tags and the intents of the sessions behind it. */
  text: string;
  /** Learned patterns: the intents of the sessions behind it with their counts (what the intent ranking reads; default: `text` once). */
  intents?: Array<{ text: string; count: number }>;
  topIntent?: string;
  supportByUser: Record<string, number>;
  supportByAgent: Record<string, number>;
  workflow: Record<string, unknown>;
  /** Procedures: how they were chosen. */
  procedure?: TypicalProcedure;
}

export interface SuggestQuery {
  intent?: string;
  tools: string[];
  userId?: string;
  agentId?: string;
  limit: number;
}

/**
 * Terms of catalog texts and intents for BM25: the normalisation learned patterns get (libs/mining
 * intent-terms.ts: numbers, ids, emails and codes masked as slots, stop words out, suffixes
 * stripped), so an order id in the intent matches no workflow in particular.
 */
// Catalog names and descriptions are written as titles: capitals there are not people's names.
function tokenize(text: string): string[] {
  return intentTerms(text, { names: false });
}

/** Weights of the intent match and the tool match when both are given. */
const INTENT_WEIGHT = 0.6;
const TOOLS_WEIGHT = 0.4;
/**
 * Learned workflows ranked by intent per query at most (times the limit, at least 200): enough
 * for the narrowing by user or agent and the tool match to pick from. Catalog hits are always
 * scored (they rank first).
 */
const HITS_PER_RESULT = 20;
const MIN_HITS = 200;

export interface SuggestionIndexOptions {
  /** Past sessions with intents like the query's (NextStepModel.similarSessions): learned workflows are ranked by their expected overlap with them. */
  similarSessions?: (intent: string) => SimilarSession[];
}

/**
 * A tenant's suggestion index. Learned workflows are ranked for an intent by libs/mining
 * IntentPatternIndex (their sessions' normalised intents against all, and the expected overlap
 * with what sessions of similar intents did: the whole procedure over its read-only prefix);
 * catalog workflows by BM25 (minisearch) over their normalised texts. Workflows are also keyed
 * by their first tool for the "already called" match. Built after each run and queried in
 * memory; nothing here touches the database.
 */
export class SuggestionIndex {
  private readonly search: MiniSearch<{ key: string; text: string }>;
  private readonly learned: IntentPatternIndex<RankablePattern & { key: string; doc: SuggestDoc }>;
  private readonly docs = new Map<string, SuggestDoc>();
  private readonly byFirstTool = new Map<string, SuggestDoc[]>();

  constructor(
    docs: SuggestDoc[],
    private readonly opts: SuggestionIndexOptions = {},
  ) {
    this.search = new MiniSearch<{ key: string; text: string }>({
      idField: 'key',
      fields: ['text'],
      tokenize,
      processTerm: (t) => t,
      searchOptions: { combineWith: 'OR', tokenize, processTerm: (t) => t },
    });
    this.search.addAll(docs.filter((d) => d.kind === 'catalog').map((d) => ({ key: d.key, text: d.text })));
    this.learned = new IntentPatternIndex(
      docs
        .filter((d) => d.kind === 'pattern')
        .map((d) => ({ key: d.key, doc: d, tools: d.tools, intents: d.intents ?? [{ text: d.text, count: 1 }], support: d.support, confidence: d.confidence })),
    );
    for (const d of docs) {
      this.docs.set(d.key, d);
      const first = d.tools[0];
      if (first === undefined) continue;
      let list = this.byFirstTool.get(first);
      if (!list) this.byFirstTool.set(first, (list = []));
      list.push(d);
    }
  }

  get size(): number {
    return this.docs.size;
  }

  query(q: SuggestQuery): Suggestion[] {
    const intent = q.intent?.trim() ? q.intent.trim() : undefined;
    const bm25 = new Map<string, { score: number; terms: string[]; overlap?: number }>();
    /** Documents made for this query only (the typical procedure). */
    const extra = new Map<string, SuggestDoc>();
    if (intent) {
      const hits = this.search.search(intent);
      const top = hits[0]?.score ?? 0;
      for (const h of hits) bm25.set(String(h.id), { score: top > 0 ? h.score / top : 0, terms: h.terms });
      const keep = Math.max(MIN_HITS, HITS_PER_RESULT * q.limit);
      const similarSessions = this.opts.similarSessions?.(intent) ?? [];
      for (const r of this.learned.rank(intent, { similarSessions }, keep, (p) => narrowedIn(p.doc, q))) {
        bm25.set(r.pattern.key, { score: r.relevance, terms: r.matchedTerms, ...(r.expectedOverlap !== undefined ? { overlap: r.expectedOverlap } : {}) });
      }
      // The neighbours' procedure knows no user or agent: it is offered only to unnarrowed queries,
      // and not when a workflow with the same tools is already a candidate (that one carries more).
      const procedure = q.userId === undefined && q.agentId === undefined ? rankProcedure(similarSessions) : undefined;
      if (procedure && !this.hasTools(procedure.procedure.tools)) {
        const doc = procedureDoc(procedure.procedure);
        extra.set(doc.key, doc);
        bm25.set(doc.key, { score: procedure.relevance, terms: [], overlap: procedure.expectedOverlap });
      }
    }
    const toolMatch = q.tools.length > 0 ? this.matchTools(q.tools) : new Map<string, number>();
    // Scores first (numbers only); the suggestion objects and their reasons only for the few returned.
    const ranked: Array<{ d: SuggestDoc; score: number; k: number; group: number }> = [];
    const consider = (key: string) => {
      const d = this.docs.get(key) ?? extra.get(key)!;
      if (d.kind === 'pattern' && !narrowedIn(d, q)) return;
      const b = bm25.get(key)?.score ?? 0;
      const k = toolMatch.get(key) ?? 0;
      const toolFrac = k > 0 ? k / Math.min(q.tools.length, d.tools.length) : 0;
      const relevance = intent && q.tools.length > 0 ? INTENT_WEIGHT * b + TOOLS_WEIGHT * toolFrac : intent ? b : toolFrac;
      if (relevance <= 0) return;
      const score = d.kind === 'catalog' ? relevance : relevance * qualityWeight(d.confidence);
      // User-submitted workflows come before learned ones, whatever their scores.
      ranked.push({ d, score, k, group: d.source === 'learned' ? 1 : 0 });
    };
    for (const key of bm25.keys()) consider(key);
    for (const key of toolMatch.keys()) if (!bm25.has(key)) consider(key);
    ranked.sort((a, b) => a.group - b.group || b.score - a.score || b.d.support - a.d.support || (a.d.name < b.d.name ? -1 : 1));
    return ranked.slice(0, q.limit).map(({ d, score, k }) => this.suggestion(d, score, k, bm25.get(d.key)));
  }

  private suggestion(d: SuggestDoc, score: number, k: number, b: { score: number; terms: string[]; overlap?: number } | undefined): Suggestion {
    const reasons: string[] = [];
    if (d.source === 'user') reasons.push(`a workflow from your catalog ("${d.name}")`);
    else if (d.kind === 'catalog') reasons.push(`a ${d.source} workflow from your catalog ("${d.name}")`);
    if (d.kind === 'pattern') {
      reasons.push(`learned from ${d.support} sessions: success rate ${pct(d.successRate ?? 0)}, confidence ${(d.confidence ?? 0).toFixed(2)}`);
      if (d.workflowId) reasons.push(`promoted to the catalog as ${d.workflowId}`);
    }
    if (d.procedure) {
      reasons.push(`the whole procedure ${d.procedure.followedBy} of the ${d.procedure.neighbours} past sessions with the most similar intents followed; not yet a learned pattern (parameters not learned)`);
    }
    if (b && b.score > 0 && b.terms.length > 0) reasons.push(`intent matches ${b.terms.map((t) => `"${t}"`).join(', ')}${d.topIntent ? ` (sessions behind it: "${d.topIntent}")` : ''}`);
    if (b?.overlap !== undefined && b.overlap > 0) reasons.push(`sessions with a similar intent called ${pct(b.overlap)} of the same tools (expected overlap)`);
    const nextTool = k > 0 && k < d.tools.length ? d.tools[k] : undefined;
    if (k > 0) reasons.push(`continues your last ${k === 1 ? 'call' : `${k} calls`} (${d.tools.slice(0, k).join(', ')})${nextTool ? ` with ${nextTool}` : ''}`);
    return {
      ...(d.workflowId ? { workflowId: d.workflowId } : {}),
      ...(d.patternId ? { patternId: d.patternId } : {}),
      source: d.source,
      name: d.name,
      ...(d.description ? { description: d.description } : {}),
      score: round4(score),
      confidence: d.confidence,
      tools: d.tools,
      matchedSteps: k,
      ...(nextTool ? { nextTool } : {}),
      reasons,
      workflow: d.workflow,
      ...(d.procedure ? { procedure: { followedBy: d.procedure.followedBy, neighbours: d.procedure.neighbours, expectedOverlap: round4(d.procedure.expectedOverlap) } } : {}),
    };
  }

  /** Whether a catalog workflow or learned pattern has exactly these tools. */
  private hasTools(tools: string[]): boolean {
    for (const d of this.byFirstTool.get(tools[0]) ?? []) {
      if (d.tools.length === tools.length && d.tools.every((t, i) => t === tools[i])) return true;
    }
    return false;
  }

  /**
   * Workflows whose first steps are the last calls made, with how many steps matched: after
   * [.., a, b] a workflow starting a, b matched 2, one starting b matched 1. A workflow fully
   * done already has nothing to suggest.
   */
  private matchTools(called: string[]): Map<string, number> {
    const best = new Map<string, number>();
    for (let k = Math.min(called.length, 32); k >= 1; k--) {
      const tail = called.slice(called.length - k);
      for (const d of this.byFirstTool.get(tail[0]) ?? []) {
        if (best.has(d.key) || d.tools.length <= k) continue;
        let ok = true;
        for (let i = 1; i < k && ok; i++) ok = d.tools[i] === tail[i];
        if (ok) best.set(d.key, k);
      }
    }
    return best;
  }
}

function narrowedIn(d: SuggestDoc, q: SuggestQuery): boolean {
  if (q.userId !== undefined && !(d.supportByUser[q.userId] > 0)) return false;
  if (q.agentId !== undefined && !(d.supportByAgent[q.agentId] > 0)) return false;
  return true;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The index document of a learned pattern. */
export function patternDoc(p: MinedPattern, workflow: Record<string, unknown>, promotedWorkflowId: string | undefined): SuggestDoc {
  const name = typeof workflow.name === 'string' ? workflow.name : p.tools.join(' → ');
  return {
    key: `p:${p.id}`,
    kind: 'pattern',
    patternId: p.id,
    ...(promotedWorkflowId ? { workflowId: promotedWorkflowId } : {}),
    source: 'learned',
    name,
    ...(typeof workflow.description === 'string' ? { description: workflow.description } : {}),
    tools: p.tools,
    confidence: p.confidence,
    support: p.support,
    successRate: p.successRate,
    text: p.intents.map((i) => i.text).join(' \n '),
    intents: p.intents,
    ...(p.intents[0] ? { topIntent: p.intents[0].text } : {}),
    supportByUser: p.supportByUser,
    supportByAgent: p.supportByAgent,
    workflow: promotedWorkflowId ? { ...workflow, id: promotedWorkflowId } : workflow,
  };
}

/** The query-time document of the similar sessions' typical procedure (a draft to fill in). */
function procedureDoc(p: TypicalProcedure): SuggestDoc {
  const workflow = procedureWorkflow(p) as unknown as Record<string, unknown>;
  return {
    key: `proc:${procedureKey(p.tools)}`,
    kind: 'procedure',
    source: 'learned',
    name: String(workflow.name),
    description: String(workflow.description),
    tools: p.tools,
    confidence: null,
    support: p.followedBy,
    successRate: null,
    text: '',
    supportByUser: {},
    supportByAgent: {},
    workflow,
    procedure: p,
  };
}
