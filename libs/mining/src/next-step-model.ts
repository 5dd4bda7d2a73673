import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { intentTermSet } from './intent-terms';
import type { ClosedSession, NextStepPrediction } from './mining-types';

/**
 * Next-step prediction from IMMEDIATE successors (the pattern counter's gapped counts answer a
 * different question: what comes within a few calls). Two parts, mixed per prediction:
 *
 * 1. An interpolated Kneser-Ney model over tool n-grams (order ≤ `order`, sessions padded with a
 *    start symbol): the longest context seen speaks first, shorter ones fill in through the
 *    discounted mass, and the unigram level counts in how many contexts a tool follows
 *    (continuation counts), not how often it is called.
 * 2. Intent neighbours: the recent sessions whose normalised intents (intent-terms.ts) are most
 *    like this one (BM25 over term sets); each is aligned on the latest tool the two sessions
 *    share, and votes for what it called next. This is what tells "return" from "exchange" after
 *    the same reads, and what steps over unrelated calls in between.
 *
 * The mixture weights are learned as sessions arrive: before a session is counted, each part
 * predicts each of its steps and the weights move toward the part that gave the step more
 * probability (online EM, prequential: no held-out data, no tuning to a data set). Weights are
 * kept per bucket of how much evidence each part has at that step.
 *
 * Everything is bounded: tools (`maxTools`, more are one "other" symbol), n-gram cells
 * (`maxCells`; beyond, the rarest highest-order cells go), recent sessions for neighbours
 * (`neighbourSessions`, a ring) and their terms. The state is plain JSON (`toJSON`/`fromJSON`).
 */
export interface NextStepModelOptions {
  /** Longest n-gram: the context is up to order - 1 previous calls (default 4). */
  order: number;
  /** Distinct tools kept (default 10,000); further tools share one symbol and are never predicted. */
  maxTools: number;
  /** N-gram cells kept at most (default 300,000). */
  maxCells: number;
  /** Recent sessions kept for intent neighbours (default 3,000; 0 = no intent part). */
  neighbourSessions: number;
  /** Neighbours that vote per prediction (default 32; each weighs (its score / the best score)²). */
  neighbours: number;
  /** Steps kept per session for neighbours (default 200). */
  maxSessionSteps: number;
  /**
   * N-gram smoothing. 'absolute' (default): interpolated absolute discounting with Kneser-Ney's
   * discount estimate and raw counts at every order. 'kneser-ney': continuation counts below the
   * longest context seen — they undercount self-loops (a tool repeated: a search retried, items
   * fetched one by one), which real logs are full of, and measured lower top-3 on agent
   * trajectories. 'witten-bell': raw counts, weight by distinct successors.
   */
  smoothing: 'kneser-ney' | 'absolute' | 'modified' | 'witten-bell';
}

export const DEFAULT_NEXT_STEP_OPTIONS: NextStepModelOptions = Object.freeze({
  order: 4,
  maxTools: 10_000,
  maxCells: 300_000,
  neighbourSessions: 3_000,
  neighbours: 32,
  maxSessionSteps: 200,
  smoothing: 'absolute',
});

/** Serialised state (JSON). */
export interface NextStepModelState {
  format: 1;
  options: NextStepModelOptions;
  tools: string[];
  sessions: number;
  /** [context ids joined by ',', [[tool, raw, continuation], ...]] */
  cells: Array<[string, number[]]>;
  terms: string[];
  /** Ring of recent sessions: [tool ids, term ids]; `ringNext` is the slot written next. */
  ring: Array<[number[], number[]]>;
  ringNext: number;
  /** Mixture evidence per bucket: [n-gram, neighbours]. */
  mix: number[][];
}

const BOS = 0;
const OTHER = 1;
const FIRST_TOOL = 2;
const MAX_TERMS = 50_000;
/** How far back a neighbour alignment looks for a shared tool. */
const ALIGN_BACK = 8;
/** Each step further back that the alignment had to go weighs a vote this much less. */
const ALIGN_DECAY = 0.7;
/**
 * An aligned neighbour also lends this share of its vote to the call after next: a step this
 * session may skip (an optional read) should not make the procedure's next step unlikely.
 */
const AHEAD_WEIGHT = 0.15;
/** Steps of a session the mixture learns from (the first ones): bounds the work per session. */
const LEARN_STEPS = 64;
/** Online EM: old evidence fades by this factor per step, so the weights follow a tenant's drift. */
const MIX_DECAY = 0.9995;
const MIX_PRIOR = 2;
/**
 * The mixture learns from a prediction at every step of a counted session, which costs far more
 * than counting it (a distribution over every tool, and the intent neighbours). Its weights
 * settle within a few thousand sessions, so past LEARN_ALL_SESSIONS only every LEARN_EVERY-th
 * session teaches them: counting a large tenant stays as cheap as counting its n-grams.
 */
const LEARN_ALL_SESSIONS = 2_000;
const LEARN_EVERY = 16;
/** Mixture buckets: neighbour evidence none/weak/strong × n-gram context count low/high. */
const BUCKETS = 6;

interface Ctx {
  k: number;
  /** Count with raw counts: the highest order, and contexts that open the session. */
  raw: boolean;
  next: Map<number, Cell>;
  rawTotal: number;
  contTotal: number;
}
interface Cell {
  raw: number;
  cont: number;
}
interface Level {
  ctx: Ctx;
  /** Raw counts (else continuation counts). */
  raw: boolean;
  total: number;
  /** Probability mass left to the shorter contexts. */
  backoff: number;
  /** Discount of a count. */
  d: (c: number) => number;
}

interface Neighbourhood {
  slots: number[];
  weights: number[];
}

export class NextStepModel {
  readonly options: NextStepModelOptions;
  private names: string[] = ['(start)', '(other)'];
  private ids = new Map<string, number>();
  private ctxs = new Map<string, Ctx>();
  private cells = 0;
  /**
   * Counts of counts, kept as cells change: [(2 × order k + kind) × 5 + c] = cells of that order
   * whose raw (kind 0) or continuation (kind 1) count is c, for c = 1..4. The discounts come from
   * them, and they are read at every counted session (the mixture learns prequentially), so they
   * must not cost a pass over every cell.
   */
  private countOfCounts: Int32Array;
  private discounts: number[] | undefined;
  private sessionCount = 0;
  // Intent neighbours.
  private termNames: string[] = [];
  private termIds = new Map<string, number>();
  private ring: Array<{ tools: Int32Array; terms: Int32Array } | undefined> = [];
  private ringNext = 0;
  /** Ring slots holding a session. */
  private ringKept = 0;
  /** Scratch of `neighbourhood`: a score per ring slot, and the slots it touched. */
  private slotScores = new Float64Array(0);
  private touchedSlots = new Int32Array(0);
  private postings = new Map<number, Set<number>>();
  private termSlots = 0;
  private mix: number[][] = Array.from({ length: BUCKETS }, () => [MIX_PRIOR, MIX_PRIOR]);
  private lastNeighbourhood: { intent: string; sessions: number; nb: Neighbourhood } | undefined;

  constructor(opts: Partial<NextStepModelOptions> = {}) {
    this.options = { ...DEFAULT_NEXT_STEP_OPTIONS, ...stripUndefined(opts) };
    const o = this.options;
    this.countOfCounts = new Int32Array(2 * Math.max(1, Math.min(8, o.order | 0)) * 5);
    if (!Number.isInteger(o.order) || o.order < 1 || o.order > 8) throw new RangeError(`next-step order must be an integer in [1, 8], got ${o.order}`);
    for (const k of ['maxTools', 'maxCells', 'neighbours', 'maxSessionSteps'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`next-step option ${k} must be a positive integer, got ${o[k]}`);
    }
    if (!Number.isInteger(o.neighbourSessions) || o.neighbourSessions < 0) throw new RangeError(`next-step option neighbourSessions must be an integer >= 0`);
  }

  /** Sessions counted so far. */
  get sessions(): number {
    return this.sessionCount;
  }

  /** Tools known (not counting the start and "other" symbols). */
  get toolCount(): number {
    return this.names.length - FIRST_TOOL;
  }

  /** Counts a closed session (its tools in order, its intent). */
  addSession(s: Pick<ClosedSession, 'steps' | 'intent'>): void {
    if (!Array.isArray(s.steps) || s.steps.length === 0) return;
    this.add(
      s.steps.map((x) => x.tool),
      s.intent,
    );
  }

  /** Counts one session given as its tool names in order. */
  add(tools: string[], intent?: string): void {
    if (tools.length === 0) return;
    const seq = tools.map((t) => this.idFor(t));
    const terms = this.options.neighbourSessions > 0 ? this.termIdsOf(intent, true) : [];
    // Prequential: predict each step before counting it, to learn the mixture weights.
    if (this.sessionCount > 0 && (this.sessionCount < LEARN_ALL_SESSIONS || this.sessionCount % LEARN_EVERY === 0)) this.learnMixture(seq, terms);
    this.countNgrams(seq);
    if (this.options.neighbourSessions > 0) this.remember(seq, terms);
    this.sessionCount++;
  }

  /**
   * The most likely next tools after `called` (and the intent, when given), most likely first.
   * `support` is how many times the tool followed the longest context seen (0 when only the
   * neighbours or the back-off propose it).
   */
  predict(called: string[], intent?: string, limit = 5): NextStepPrediction[] {
    if (this.sessionCount === 0 || limit <= 0) return [];
    const history = [BOS, ...called.map((t) => this.ids.get(t) ?? OTHER)];
    const dist = this.distribution(history, this.options.neighbourSessions > 0 ? intent : undefined);
    const support = this.supportOf(history);
    const ranked: number[] = [];
    for (let t = FIRST_TOOL; t < dist.length; t++) if (dist[t] > 0) ranked.push(t);
    ranked.sort((a, b) => dist[b] - dist[a] || (this.names[a] < this.names[b] ? -1 : 1));
    return ranked.slice(0, limit).map((t) => ({ tool: this.names[t], probability: dist[t], support: support.get(t) ?? 0 }));
  }

  /**
   * Recent sessions whose intents are most like `intent` (BM25 over normalised terms), with their
   * tools and a weight relative to the best match (1). Empty without an intent or neighbours.
   */
  similarSessions(intent: string | undefined, limit = this.options.neighbours): Array<{ tools: string[]; weight: number }> {
    if (this.options.neighbourSessions === 0) return [];
    const nb = this.neighbourhood(this.termIdsOf(intent, false), limit);
    return nb.slots.map((slot, i) => ({ tools: Array.from(this.ring[slot]!.tools, (t) => this.names[t]), weight: nb.weights[i] }));
  }

  // ---- n-grams ---------------------------------------------------------------------------

  private idFor(tool: string): number {
    const name = typeof tool === 'string' && tool !== '' ? tool : '(unnamed)';
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    if (this.names.length - FIRST_TOOL >= this.options.maxTools) return OTHER;
    id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    return id;
  }

  private countNgrams(seq: number[]): void {
    const n = this.options.order;
    const padded = [BOS, ...seq];
    const isNew: boolean[] = [];
    for (let i = 1; i < padded.length; i++) {
      const w = padded[i];
      const maxK = Math.min(n - 1, i);
      for (let k = maxK; k >= 0; k--) {
        const key = keyOf(padded, i - k, i);
        let ctx = this.ctxs.get(key);
        if (!ctx) {
          ctx = { k, raw: k === n - 1 || (k > 0 && padded[i - k] === BOS), next: new Map(), rawTotal: 0, contTotal: 0 };
          this.ctxs.set(key, ctx);
        }
        let cell = ctx.next.get(w);
        if (!cell) {
          cell = { raw: 0, cont: 0 };
          ctx.next.set(w, cell);
          this.cells++;
        }
        isNew[k] = cell.raw === 0;
        this.recount(k, 0, cell.raw, cell.raw + 1);
        cell.raw++;
        ctx.rawTotal++;
        // A new left extension (one longer context) is one more context this n-gram continues.
        if (k < maxK && isNew[k + 1]) {
          this.recount(k, 1, cell.cont, cell.cont + 1);
          cell.cont++;
          ctx.contTotal++;
        }
      }
    }
    this.discounts = undefined;
    if (this.cells > this.options.maxCells) this.prune();
  }

  /** Drops the rarest cells of the highest orders until the cells are under 3/4 of the bound. */
  private prune(): void {
    const goal = Math.floor(this.options.maxCells * 0.75);
    for (let k = this.options.order - 1; k >= 1 && this.cells > goal; k--) {
      for (let limit = 1; limit <= 1_000_000 && this.cells > goal; limit *= 2) {
        for (const [key, ctx] of this.ctxs) {
          if (ctx.k !== k) continue;
          for (const [w, cell] of ctx.next) {
            if (cell.raw > limit) continue;
            this.recount(k, 0, cell.raw, 0);
            this.recount(k, 1, cell.cont, 0);
            ctx.next.delete(w);
            ctx.rawTotal -= cell.raw;
            ctx.contTotal -= cell.cont;
            this.cells--;
          }
          if (ctx.next.size === 0) this.ctxs.delete(key);
        }
      }
    }
  }

  /** A cell of order k moved from count `from` to `to` (0 = gone) of one kind: 0 raw, 1 continuation. */
  private recount(k: number, kind: 0 | 1, from: number, to: number): void {
    const at = (2 * k + kind) * 5;
    if (from >= 1 && from <= 4) this.countOfCounts[at + from]--;
    if (to >= 1 && to <= 4) this.countOfCounts[at + to]++;
  }

  /**
   * Discounts per order and count kind (raw, continuation) for counts 1, 2 and 3+ (Chen and
   * Goodman's modified Kneser-Ney estimates from the counts of counts), each within [0, c).
   */
  private discount(k: number, raw: boolean, c: number): number {
    if (!this.discounts) {
      const o = this.options.order;
      const out: number[] = [];
      for (let row = 0; row < 2 * o; row++) {
        const at = row * 5;
        const [n1, n2, n3, n4] = [this.countOfCounts[at + 1], this.countOfCounts[at + 2], this.countOfCounts[at + 3], this.countOfCounts[at + 4]];
        const y = n1 > 0 && n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
        const d1 = n1 > 0 && n2 > 0 ? 1 - (2 * y * n2) / n1 : 0.5;
        const d2 = n2 > 0 && n3 > 0 ? 2 - (3 * y * n3) / n2 : 1;
        const d3 = n3 > 0 && n4 > 0 ? 3 - (4 * y * n4) / n3 : 1.5;
        out.push(clamp(d1, 0.05, 0.95), clamp(d2, 0.05, 1.9), clamp(d3, 0.05, 2.9));
      }
      this.discounts = out;
    }
    if (this.options.smoothing !== 'modified') {
      return this.discounts[3 * (2 * k + (raw ? 0 : 1))];
    }
    return this.discounts[3 * (2 * k + (raw ? 0 : 1)) + Math.min(c, 3) - 1];
  }

  /**
   * P over every tool id (index = id; BOS and OTHER get 0), interpolated from the longest context
   * seen down to the unigram level. The longest context seen uses raw counts (it is the
   * estimate, not a back-off), shorter ones Kneser-Ney continuation counts (they only fill in).
   */
  /**
   * The interpolation levels for a history, shortest context first: each context seen, with the
   * counts it uses, its total, the back-off weight it leaves to the shorter ones, and its discount.
   */
  private levels(history: number[]): Level[] {
    const ctxs: Ctx[] = [];
    for (let k = 0; k <= Math.min(this.options.order - 1, history.length); k++) {
      const ctx = this.ctxs.get(keyOf(history, history.length - k, history.length));
      if (!ctx || ctx.rawTotal <= 0) break; // a longer context containing an unseen one is unseen too
      ctxs.push(ctx);
    }
    const out: Level[] = [];
    ctxs.forEach((ctx, k) => {
      const raw = this.options.smoothing !== 'kneser-ney' || ctx.raw || k === ctxs.length - 1;
      const total = raw ? ctx.rawTotal : ctx.contTotal;
      if (total <= 0) return;
      const d = (c: number): number => this.discount(k, raw, c);
      let mass = 0;
      for (const cell of ctx.next.values()) {
        const c = raw ? cell.raw : cell.cont;
        if (c > 0) mass += Math.min(c, d(c));
      }
      out.push({ ctx, raw, total, backoff: mass / total, d });
    });
    return out;
  }

  private ngramDistribution(history: number[]): Float64Array {
    const v = this.names.length;
    const p = new Float64Array(v);
    const known = Math.max(1, v - FIRST_TOOL);
    for (let t = FIRST_TOOL; t < v; t++) p[t] = 1 / known;
    for (const { ctx, raw, total, backoff, d } of this.levels(history)) {
      if (this.options.smoothing === 'witten-bell') {
        const lambda = total / (total + ctx.next.size);
        for (let t = FIRST_TOOL; t < v; t++) p[t] *= 1 - lambda;
        for (const [w, cell] of ctx.next) if (w >= FIRST_TOOL) p[w] += (lambda * cell.raw) / total;
        continue;
      }
      for (let t = FIRST_TOOL; t < v; t++) p[t] *= backoff;
      for (const [w, cell] of ctx.next) {
        if (w < FIRST_TOOL) continue;
        const c = raw ? cell.raw : cell.cont;
        if (c > 0) p[w] += Math.max(0, c - d(c)) / total;
      }
    }
    normalise(p);
    return p;
  }

  /** ngramDistribution(history)[target], without the vector over every tool. */
  private ngramProbability(history: number[], target: number): number {
    const known = Math.max(1, this.names.length - FIRST_TOOL);
    let p = 1 / known;
    for (const { ctx, raw, total, backoff, d } of this.levels(history)) {
      if (this.options.smoothing === 'witten-bell') {
        const lambda = total / (total + ctx.next.size);
        p = (1 - lambda) * p + (lambda * (ctx.next.get(target)?.raw ?? 0)) / total;
        continue;
      }
      const cell = ctx.next.get(target);
      const c = cell ? (raw ? cell.raw : cell.cont) : 0;
      p = backoff * p + (c > 0 ? Math.max(0, c - d(c)) / total : 0);
    }
    return p;
  }

  /** Raw count of each tool after the longest context seen (the evidence shown as `support`). */
  private supportOf(history: number[]): Map<number, number> {
    const out = new Map<number, number>();
    for (let k = Math.min(this.options.order - 1, history.length); k >= 1; k--) {
      const ctx = this.ctxs.get(keyOf(history, history.length - k, history.length));
      if (!ctx || ctx.rawTotal <= 0) continue;
      for (const [w, cell] of ctx.next) if (w >= FIRST_TOOL) out.set(w, cell.raw);
      return out;
    }
    return out;
  }

  /** How many times the last call was seen followed by anything (for the mixture bucket). */
  private lastContextCount(history: number[]): number {
    if (history.length === 0) return 0;
    return this.ctxs.get(String(history[history.length - 1]))?.rawTotal ?? 0;
  }

  // ---- intent neighbours ------------------------------------------------------------------

  private termIdsOf(intent: string | undefined, create: boolean): number[] {
    const out: number[] = [];
    for (const t of intentTermSet(intent)) {
      let id = this.termIds.get(t);
      if (id === undefined && create && this.termNames.length < MAX_TERMS) {
        id = this.termNames.length;
        this.termNames.push(t);
        this.termIds.set(t, id);
      }
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  private remember(seq: number[], terms: number[]): void {
    const cap = this.options.neighbourSessions;
    const slot = this.ringNext;
    const old = this.ring[slot];
    if (!old) this.ringKept++;
    if (old) {
      for (const t of old.terms) {
        const set = this.postings.get(t);
        if (!set) continue;
        set.delete(slot);
        if (set.size === 0) this.postings.delete(t);
      }
      this.termSlots -= old.terms.length;
    }
    const tools = Int32Array.from(seq.length > this.options.maxSessionSteps ? seq.slice(0, this.options.maxSessionSteps) : seq);
    this.ring[slot] = { tools, terms: Int32Array.from(terms) };
    for (const t of terms) {
      let set = this.postings.get(t);
      if (!set) this.postings.set(t, (set = new Set()));
      set.add(slot);
    }
    this.termSlots += terms.length;
    this.ringNext = (slot + 1) % cap;
  }

  /** The kept sessions most like the intent (BM25 over term sets), with weights relative to the best. */
  private neighbourhood(terms: number[], limit = this.options.neighbours): Neighbourhood {
    const kept = this.ringKept;
    if (terms.length === 0 || kept === 0 || limit <= 0) return { slots: [], weights: [] };
    // Called for every counted session (the mixture learns prequentially): scores go into typed
    // scratch arrays indexed by slot, and only the best `limit` are kept, never a sort of all.
    if (this.slotScores.length < this.ring.length) {
      this.slotScores = new Float64Array(this.ring.length);
      this.touchedSlots = new Int32Array(this.ring.length);
    }
    const scores = this.slotScores;
    const touched = this.touchedSlots;
    let nTouched = 0;
    const avgLen = this.termSlots / kept || 1;
    const k1 = 1.2;
    const b = 0.75;
    for (const t of terms) {
      const set = this.postings.get(t);
      if (!set) continue;
      const df = set.size;
      const idf = Math.log(1 + (kept - df + 0.5) / (df + 0.5));
      if (idf <= 0) continue;
      for (const slot of set) {
        const len = this.ring[slot]!.terms.length;
        if (scores[slot] === 0) touched[nTouched++] = slot;
        scores[slot] += (idf * (k1 + 1)) / (1 + k1 * (1 - b + (b * len) / avgLen));
      }
    }
    // Top `limit` by score, ties by slot (as a full sort would order them).
    const topSlots: number[] = [];
    const topScores: number[] = [];
    for (let i = 0; i < nTouched; i++) {
      const slot = touched[i];
      const v = scores[slot];
      scores[slot] = 0;
      const n = topSlots.length;
      if (n === limit && (v < topScores[n - 1] || (v === topScores[n - 1] && slot > topSlots[n - 1]))) continue;
      let at = n;
      while (at > 0 && (topScores[at - 1] < v || (topScores[at - 1] === v && topSlots[at - 1] > slot))) at--;
      topSlots.splice(at, 0, slot);
      topScores.splice(at, 0, v);
      if (topSlots.length > limit) {
        topSlots.pop();
        topScores.pop();
      }
    }
    const best = topScores[0] ?? 0;
    if (best <= 0) return { slots: [], weights: [] };
    return { slots: topSlots, weights: topScores.map((v) => (v / best) ** 2) };
  }

  /**
   * Votes of the neighbours for the tool after `history`: each aligns on the latest call of the
   * history it also made (the occurrence with the longest shared run before it) and votes for
   * the call it made next. Returns the vote total (0 = no opinion).
   */
  private neighbourVotes(history: number[], nb: Neighbourhood, out: Float64Array): number {
    let total = 0;
    const calls = history.length - 1; // history[0] is BOS
    for (let n = 0; n < nb.slots.length; n++) {
      const tools = this.ring[nb.slots[n]]!.tools;
      if (calls === 0) {
        // Nothing called yet: each neighbour votes for the call it opened with.
        if (tools.length > 0 && tools[0] >= FIRST_TOOL && tools[0] < out.length) {
          out[tools[0]] += nb.weights[n];
          total += nb.weights[n];
        }
        continue;
      }
      let voted = false;
      for (let back = 0; back < Math.min(ALIGN_BACK, calls) && !voted; back++) {
        const tool = history[history.length - 1 - back];
        if (tool < FIRST_TOOL) continue;
        let bestJ = -1;
        let bestRun = -1;
        for (let j = 0; j < tools.length - 1; j++) {
          if (tools[j] !== tool) continue;
          let run = 0;
          while (run < 4 && j - 1 - run >= 0 && history.length - 2 - back - run >= 1 && tools[j - 1 - run] === history[history.length - 2 - back - run]) run++;
          if (run > bestRun) {
            bestRun = run;
            bestJ = j;
          }
        }
        if (tools.some((x) => x === tool)) voted = true;
        if (bestJ >= 0) {
          const w = nb.weights[n] * ALIGN_DECAY ** back;
          const next = tools[bestJ + 1];
          if (next >= FIRST_TOOL && next < out.length) {
            out[next] += w;
            total += w;
          }
          const after = tools[bestJ + 2];
          if (after !== undefined && after >= FIRST_TOOL && after < out.length) {
            out[after] += w * AHEAD_WEIGHT;
            total += w * AHEAD_WEIGHT;
          }
        }
      }
    }
    return total;
  }

  // ---- mixture ----------------------------------------------------------------------------

  private bucketOf(history: number[], votes: number): number {
    const strong = this.lastContextCount(history) >= 10 ? 1 : 0;
    const nb = votes <= 0 ? 0 : votes < 1.5 ? 1 : 2;
    return nb * 2 + strong;
  }

  private weightsOf(bucket: number): [number, number] {
    const [a, b] = this.mix[bucket];
    return [a / (a + b), b / (a + b)];
  }

  /** The neighbourhood of an intent, kept while no session is added (a session asks again and again with one intent). */
  private neighbourhoodOf(intent: string): Neighbourhood {
    const cached = this.lastNeighbourhood;
    if (cached && cached.intent === intent && cached.sessions === this.sessionCount) return cached.nb;
    const nb = this.neighbourhood(this.termIdsOf(intent, false));
    this.lastNeighbourhood = { intent, sessions: this.sessionCount, nb };
    return nb;
  }

  private distribution(history: number[], intent: string | undefined): Float64Array {
    const p = this.ngramDistribution(history);
    if (!intent) return p;
    const nb = this.neighbourhoodOf(intent);
    if (nb.slots.length === 0) return p;
    const votes = new Float64Array(p.length);
    const total = this.neighbourVotes(history, nb, votes);
    if (total <= 0) return p;
    const [wa, wb] = this.weightsOf(this.bucketOf(history, total));
    for (let t = 0; t < p.length; t++) p[t] = wa * p[t] + (wb * votes[t]) / total;
    return p;
  }

  /** Online EM step over one session's steps, before the session is counted. */
  private learnMixture(seq: number[], terms: number[]): void {
    if (terms.length === 0) return;
    const nb = this.neighbourhood(terms);
    if (nb.slots.length === 0) return;
    const history = [BOS];
    const votes = new Float64Array(this.names.length);
    for (let i = 0; i < Math.min(seq.length, LEARN_STEPS); i++) {
      const target = seq[i];
      if (target >= FIRST_TOOL) {
        votes.fill(0);
        const total = this.neighbourVotes(history, nb, votes);
        if (total > 0) {
          const pa = this.ngramProbability(history, target);
          const pb = votes[target] / total;
          const bucket = this.bucketOf(history, total);
          const [wa, wb] = this.weightsOf(bucket);
          const z = wa * pa + wb * pb;
          const m = this.mix[bucket];
          m[0] *= MIX_DECAY;
          m[1] *= MIX_DECAY;
          if (z > 0) {
            m[0] += (wa * pa) / z;
            m[1] += (wb * pb) / z;
          }
        }
      }
      history.push(target);
      if (history.length > this.options.order + ALIGN_BACK) history.splice(1, 1);
    }
  }

  // ---- persistence ------------------------------------------------------------------------

  toJSON(): NextStepModelState {
    const cells: Array<[string, number[]]> = [];
    for (const [key, ctx] of this.ctxs) {
      const flat: number[] = [];
      for (const [w, c] of ctx.next) flat.push(w, c.raw, c.cont);
      cells.push([key, flat]);
    }
    const ring: Array<[number[], number[]]> = [];
    for (const r of this.ring) ring.push(r ? [Array.from(r.tools), Array.from(r.terms)] : [[], []]);
    return {
      format: 1,
      options: { ...this.options },
      tools: this.names.slice(FIRST_TOOL),
      sessions: this.sessionCount,
      cells,
      terms: [...this.termNames],
      ring,
      ringNext: this.ringNext,
      mix: this.mix.map((m) => [...m]),
    };
  }

  /** The state as a compact Buffer (raw-deflated JSON); fromSnapshot(toSnapshot()) predicts identically. */
  toSnapshot(): Buffer {
    return deflateRawSync(Buffer.from(JSON.stringify(this.toJSON()), 'utf8'), { level: 1 });
  }

  static fromSnapshot(buf: Buffer): NextStepModel {
    return NextStepModel.fromJSON(JSON.parse(inflateRawSync(buf).toString('utf8')) as NextStepModelState);
  }

  static fromJSON(state: NextStepModelState): NextStepModel {
    if (!state || state.format !== 1) throw new Error(`unknown next-step model format ${String(state?.format)}`);
    const m = new NextStepModel(state.options);
    for (const t of state.tools) m.idFor(t);
    m.sessionCount = state.sessions;
    const n = m.options.order;
    for (const [key, flat] of state.cells) {
      const ids = key === '' ? [] : key.split(',').map(Number);
      const k = ids.length;
      const ctx: Ctx = { k, raw: k === n - 1 || (k > 0 && ids[0] === BOS), next: new Map(), rawTotal: 0, contTotal: 0 };
      for (let i = 0; i + 2 < flat.length; i += 3) {
        ctx.next.set(flat[i], { raw: flat[i + 1], cont: flat[i + 2] });
        m.recount(k, 0, 0, flat[i + 1]);
        m.recount(k, 1, 0, flat[i + 2]);
        ctx.rawTotal += flat[i + 1];
        ctx.contTotal += flat[i + 2];
        m.cells++;
      }
      m.ctxs.set(key, ctx);
    }
    for (const t of state.terms) {
      m.termIds.set(t, m.termNames.length);
      m.termNames.push(t);
    }
    state.ring.forEach(([tools, terms], slot) => {
      if (tools.length === 0 && terms.length === 0) {
        m.ring[slot] = undefined;
        return;
      }
      m.ring[slot] = { tools: Int32Array.from(tools), terms: Int32Array.from(terms) };
      m.ringKept++;
      for (const t of terms) {
        let set = m.postings.get(t);
        if (!set) m.postings.set(t, (set = new Set()));
        set.add(slot);
      }
      m.termSlots += terms.length;
    });
    m.ringNext = state.ringNext % Math.max(1, m.options.neighbourSessions);
    if (Array.isArray(state.mix) && state.mix.length === BUCKETS) m.mix = state.mix.map((x) => [x[0], x[1]]);
    return m;
  }
}

function keyOf(seq: number[], from: number, to: number): string {
  let key = '';
  for (let i = from; i < to; i++) key += i === from ? String(seq[i]) : `,${seq[i]}`;
  return key;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function normalise(p: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i];
  if (sum > 0) for (let i = 0; i < p.length; i++) p[i] /= sum;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
