/** Words that carry no meaning for matching a task to tools and workflows. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by do does for from has have i in into is it its me my of on or our please so than that the their them then ' +
    'there these this those to up us was we were what when where which while who will with would you your can could should want need needs ' +
    'make create build run use using each every after before new workflow workflows step steps tool tools'
  ).split(' '),
);

/** Longest query the index is asked (one bit per term): a 20,000-character prompt must not cost 20,000 lookups. */
const MAX_QUERY_TERMS = 32;
/** Index terms a short query term may expand to by prefix ("deploy" → "deployment", "deploys"). */
const MAX_PREFIX_EXPANSIONS = 8;
const MIN_PREFIX_LENGTH = 4;
const K1 = 1.2;
const B = 0.75;

function normalize(raw: string): string | null {
  const t = raw.toLowerCase();
  return t.length < 2 || STOP_WORDS.has(t) ? null : t;
}

function tokens(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[\s\p{P}\p{S}]+/u)) {
    const t = normalize(raw);
    if (t) out.push(t);
  }
  return out;
}

/** The distinct meaningful terms of a text, in order of first appearance (at most MAX_QUERY_TERMS). */
export function queryTermsOf(text: string): string[] {
  const seen = new Set<string>();
  for (const t of tokens(text)) {
    seen.add(t);
    if (seen.size >= MAX_QUERY_TERMS) break;
  }
  return [...seen];
}

export interface TextHit {
  id: string;
  /** BM25 score, comparable only inside one query. */
  score: number;
  /** Share of the query's terms the document matched (0..1). */
  coverage: number;
  /** Query terms it matched. */
  matched: string[];
}

interface Posting {
  docs: number[];
  /** Field-weighted term frequency in each doc. */
  tf: number[];
}

/**
 * A BM25 index over documents with an `id` and text fields (weighted per field), built for one
 * snapshot and then only read. A query costs the length of its terms' posting lists: scores are
 * accumulated in one array and only the best `limit` are sorted, so 10,000 documents answer in
 * about a millisecond. (MiniSearch was measured here first: it scores and sorts every match, which
 * cost 25-300 ms a query at 10,000 workflows on this machine.) Query terms of 4+ characters also
 * match index terms they start.
 */
export class TextIndex<D extends { id: string }> {
  private readonly ids: string[] = [];
  private readonly lengths: number[] = [];
  private readonly postings = new Map<string, Posting>();
  private vocabulary?: string[];
  private totalLength = 0;
  private scores?: Float64Array;
  private masks?: Uint32Array;

  constructor(
    private readonly fields: Array<keyof D & string>,
    private readonly boost: Partial<Record<keyof D & string, number>> = {},
  ) {}

  addAll(docs: D[]): void {
    for (const doc of docs) this.add(doc);
    this.vocabulary = undefined;
  }

  get size(): number {
    return this.ids.length;
  }

  private add(doc: D): void {
    const n = this.ids.length;
    this.ids.push(doc.id);
    const counts = new Map<string, number>();
    let length = 0;
    for (const field of this.fields) {
      const v = (doc as Record<string, unknown>)[field];
      const text = Array.isArray(v) ? v.join(' ') : typeof v === 'string' ? v : '';
      const weight = this.boost[field] ?? 1;
      for (const t of tokens(text)) {
        counts.set(t, (counts.get(t) ?? 0) + weight);
        length++;
      }
    }
    this.lengths.push(length);
    this.totalLength += length;
    for (const [t, tf] of counts) {
      let p = this.postings.get(t);
      if (!p) {
        p = { docs: [], tf: [] };
        this.postings.set(t, p);
      }
      p.docs.push(n);
      p.tf.push(tf);
    }
  }

  /** Index terms a query term matches: itself, and for longer terms the ones it starts. */
  private expand(term: string): string[] {
    const out = this.postings.has(term) ? [term] : [];
    if (term.length < MIN_PREFIX_LENGTH) return out;
    this.vocabulary ??= [...this.postings.keys()].sort();
    const vocab = this.vocabulary;
    let lo = 0;
    let hi = vocab.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (vocab[mid] < term) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < vocab.length && vocab[i].startsWith(term) && out.length < MAX_PREFIX_EXPANSIONS; i++) if (vocab[i] !== term) out.push(vocab[i]);
    return out;
  }

  search(text: string, limit: number, filter?: (id: string) => boolean): TextHit[] {
    const terms = queryTermsOf(text);
    const n = this.ids.length;
    if (terms.length === 0 || n === 0 || limit <= 0) return [];
    const avgLength = this.totalLength / n || 1;
    // Per-document accumulators, reused across queries (search is synchronous, so never shared).
    if (!this.scores || this.scores.length < n) {
      this.scores = new Float64Array(n);
      this.masks = new Uint32Array(n);
    }
    const scores = this.scores;
    const masks = this.masks!;
    const touched: number[] = [];
    terms.forEach((term, bit) => {
      for (const t of this.expand(term)) {
        const p = this.postings.get(t)!;
        const df = p.docs.length;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        // An expansion counts a little less than the exact term.
        const weight = t === term ? 1 : 0.7;
        for (let i = 0; i < df; i++) {
          const d = p.docs[i];
          const tf = p.tf[i];
          if (masks[d] === 0) touched.push(d);
          scores[d] += (weight * idf * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * this.lengths[d]) / avgLength));
          masks[d] |= 1 << bit;
        }
      }
    });
    const best: Array<{ d: number; score: number; mask: number }> = [];
    for (const d of touched) {
      const score = scores[d];
      const mask = masks[d];
      scores[d] = 0;
      masks[d] = 0;
      if (best.length >= limit && score <= best[best.length - 1].score) continue;
      if (filter && !filter(this.ids[d])) continue;
      let i = best.length;
      best.push({ d, score, mask });
      while (i > 0 && best[i - 1].score < score) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = { d, score, mask };
      if (best.length > limit) best.pop();
    }
    return best.map(({ d, score, mask }) => {
      const matched = terms.filter((_, bit) => (mask & (1 << bit)) !== 0);
      return { id: this.ids[d], score, coverage: matched.length / terms.length, matched };
    });
  }
}
