import MiniSearch from 'minisearch';
import type { Suggestion } from '@toolpath/contracts';
import type { MinedPattern } from '@toolpath/mining';

/** One suggestible workflow: a catalog workflow, or a learned pattern above the confidence threshold. */
export interface SuggestDoc {
  key: string;
  kind: 'catalog' | 'pattern';
  workflowId?: string;
  patternId?: string;
  source: Suggestion['source'];
  name: string;
  description?: string;
  tools: string[];
  confidence: number | null;
  support: number;
  successRate: number | null;
  /** What BM25 matches an intent against: the intents of the sessions behind it, plus name/description for catalog ones. */
  text: string;
  topIntent?: string;
  supportByUser: Record<string, number>;
  supportByAgent: Record<string, number>;
  workflow: Record<string, unknown>;
}

export interface SuggestQuery {
  intent?: string;
  tools: string[];
  userId?: string;
  agentId?: string;
  limit: number;
}

/** Words that say nothing about the task: matching on them would relate every intent to every other. */
const STOP_WORDS = new Set(
  'a an the and or of to in on at for from by with without into onto about as is are be was were it its this that these those my our your their me us you i we they please can could would should will do does did how what which who when where why all any some new'.split(
    ' ',
  ),
);

/**
 * Lower case, stop words out, and a light suffix stripping (reviews, reviewed, reviewing → review)
 * applied alike to indexed intents and queries: exact term lookups stay fast (no fuzzy or prefix
 * expansion over the whole vocabulary) while word forms still meet.
 */
export function processTerm(term: string): string | null {
  let t = term.toLowerCase();
  if (t.length === 0 || STOP_WORDS.has(t)) return null;
  if (t.length > 5 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith('ed')) t = t.slice(0, -2);
  else if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1);
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t;
}

/** Weights of the intent match and the tool match when both are given. */
const INTENT_WEIGHT = 0.6;
const TOOLS_WEIGHT = 0.4;
/**
 * BM25 hits of learned workflows scored per query at most (times the limit, at least 200): the
 * confidence weighting can at most halve a score, so a hit ranked that far down does not reach
 * the answer. Catalog hits are always scored (they rank first).
 */
const HITS_PER_RESULT = 20;
const MIN_HITS = 200;

/**
 * A tenant's suggestion index: BM25 (minisearch) over the intents behind each workflow, and the
 * workflows keyed by their first tool for the "already called" match. Built after each run and
 * queried in memory; nothing here touches the database.
 */
export class SuggestionIndex {
  private readonly search: MiniSearch<{ key: string; text: string }>;
  private readonly docs = new Map<string, SuggestDoc>();
  private readonly byFirstTool = new Map<string, SuggestDoc[]>();

  constructor(docs: SuggestDoc[]) {
    this.search = new MiniSearch<{ key: string; text: string }>({
      idField: 'key',
      fields: ['text'],
      processTerm,
      searchOptions: { combineWith: 'OR' },
    });
    this.search.addAll(docs.map((d) => ({ key: d.key, text: d.text })));
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
    const bm25 = new Map<string, { score: number; terms: string[] }>();
    if (intent) {
      const hits = this.search.search(intent);
      const top = hits[0]?.score ?? 0;
      const keep = Math.max(MIN_HITS, HITS_PER_RESULT * q.limit);
      let learned = 0;
      for (const h of hits) {
        const key = String(h.id);
        if (key.startsWith('p:') && ++learned > keep) continue;
        bm25.set(key, { score: top > 0 ? h.score / top : 0, terms: h.terms });
      }
    }
    const toolMatch = q.tools.length > 0 ? this.matchTools(q.tools) : new Map<string, number>();
    // Scores first (numbers only); the suggestion objects and their reasons only for the few returned.
    const ranked: Array<{ d: SuggestDoc; score: number; k: number; group: number }> = [];
    const consider = (key: string) => {
      const d = this.docs.get(key)!;
      if (d.kind === 'pattern' && !narrowedIn(d, q)) return;
      const b = bm25.get(key)?.score ?? 0;
      const k = toolMatch.get(key) ?? 0;
      const toolFrac = k > 0 ? k / Math.min(q.tools.length, d.tools.length) : 0;
      const relevance = intent && q.tools.length > 0 ? INTENT_WEIGHT * b + TOOLS_WEIGHT * toolFrac : intent ? b : toolFrac;
      if (relevance <= 0) return;
      const score = d.kind === 'pattern' ? relevance * (0.5 + 0.5 * (d.confidence ?? 0)) : relevance;
      // User-submitted workflows come before learned ones, whatever their scores.
      ranked.push({ d, score, k, group: d.source === 'learned' ? 1 : 0 });
    };
    for (const key of bm25.keys()) consider(key);
    for (const key of toolMatch.keys()) if (!bm25.has(key)) consider(key);
    ranked.sort((a, b) => a.group - b.group || b.score - a.score || b.d.support - a.d.support || (a.d.name < b.d.name ? -1 : 1));
    return ranked.slice(0, q.limit).map(({ d, score, k }) => this.suggestion(d, score, k, bm25.get(d.key)));
  }

  private suggestion(d: SuggestDoc, score: number, k: number, b: { score: number; terms: string[] } | undefined): Suggestion {
    const reasons: string[] = [];
    if (d.source === 'user') reasons.push(`a workflow from your catalog ("${d.name}")`);
    else if (d.kind === 'catalog') reasons.push(`a ${d.source} workflow from your catalog ("${d.name}")`);
    if (d.kind === 'pattern') {
      reasons.push(`learned from ${d.support} sessions: success rate ${pct(d.successRate ?? 0)}, confidence ${(d.confidence ?? 0).toFixed(2)}`);
      if (d.workflowId) reasons.push(`promoted to the catalog as ${d.workflowId}`);
    }
    if (b && b.score > 0) reasons.push(`intent matches ${b.terms.map((t) => `"${t}"`).join(', ')}${d.topIntent ? ` (sessions behind it: "${d.topIntent}")` : ''}`);
    const nextTool = k > 0 && k < d.tools.length ? d.tools[k] : undefined;
    if (k > 0) reasons.push(`continues your last ${k === 1 ? 'call' : `${k} calls`} (${d.tools.slice(0, k).join(', ')})${nextTool ? ` with ${nextTool}` : ''}`);
    return {
      ...(d.workflowId ? { workflowId: d.workflowId } : {}),
      ...(d.patternId ? { patternId: d.patternId } : {}),
      source: d.source,
      name: d.name,
      ...(d.description ? { description: d.description } : {}),
      score: Math.round(score * 10_000) / 10_000,
      confidence: d.confidence,
      tools: d.tools,
      matchedSteps: k,
      ...(nextTool ? { nextTool } : {}),
      reasons,
      workflow: d.workflow,
    };
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
    ...(p.intents[0] ? { topIntent: p.intents[0].text } : {}),
    supportByUser: p.supportByUser,
    supportByAgent: p.supportByAgent,
    workflow: promotedWorkflowId ? { ...workflow, id: promotedWorkflowId } : workflow,
  };
}
