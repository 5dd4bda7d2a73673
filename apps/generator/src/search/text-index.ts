import MiniSearch from 'minisearch';

/** Words that carry no meaning for matching a task to tools and workflows. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by do does for from has have i in into is it its me my of on or our please so than that the their them then ' +
    'there these this those to up us was we were what when where which while who will with would you your can could should want need needs ' +
    'make create build run use using each every after before new workflow workflows step steps tool tools'
  ).split(' '),
);

/** Longest query the index is asked: a 20,000-character prompt must not cost 20,000 term lookups. */
const MAX_QUERY_TERMS = 48;

function processTerm(term: string): string | null {
  const t = term.toLowerCase();
  return t.length < 2 || STOP_WORDS.has(t) ? null : t;
}

/** The distinct meaningful terms of a text, in order of first appearance (at most MAX_QUERY_TERMS). */
export function queryTermsOf(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(/[\s\p{P}\p{S}]+/u)) {
    const t = processTerm(raw);
    if (t && !seen.has(t)) {
      seen.add(t);
      if (seen.size >= MAX_QUERY_TERMS) break;
    }
  }
  return [...seen];
}

export interface TextHit {
  id: string;
  /** BM25 score (MiniSearch), comparable only inside one query. */
  score: number;
  /** Share of the query's terms the document matched (0..1). */
  coverage: number;
  /** Query terms it matched. */
  matched: string[];
}

/**
 * A BM25 index (MiniSearch) over documents with an `id` and text fields. Prefix matching lets
 * "deploy" find "deployment"; the small fuzziness forgives a typo in longer words.
 */
export class TextIndex<D extends { id: string }> {
  private readonly index: MiniSearch<D>;

  constructor(fields: Array<keyof D & string>, boost: Partial<Record<keyof D & string, number>> = {}) {
    this.index = new MiniSearch<D>({
      idField: 'id',
      fields,
      processTerm,
      searchOptions: {
        boost: boost as Record<string, number>,
        prefix: (term) => term.length >= 4,
        fuzzy: (term) => (term.length >= 6 ? 0.15 : 0),
        combineWith: 'OR',
      },
      extractField: (doc, field) => {
        const v = (doc as Record<string, unknown>)[field];
        return Array.isArray(v) ? v.join(' ') : typeof v === 'string' ? v : '';
      },
    });
  }

  addAll(docs: D[]): void {
    this.index.addAll(docs);
  }

  get size(): number {
    return this.index.documentCount;
  }

  search(text: string, limit: number, filter?: (id: string) => boolean): TextHit[] {
    const terms = queryTermsOf(text);
    if (terms.length === 0) return [];
    const results = this.index.search(terms.join(' '), filter ? { filter: (r) => filter(String(r.id)) } : undefined);
    return results.slice(0, limit).map((r) => {
      const matched = [...new Set(r.queryTerms)];
      return { id: String(r.id), score: r.score, coverage: matched.length / terms.length, matched };
    });
  }
}
