import { createHash } from 'node:crypto';
import { resolveMiningOptions, type MiningOptions } from './mining-options';
import type { ClosedSession, MinedPattern, PatternCounterStats, PatternFilter, PatternOccurrence } from './mining-types';
import { PatternStats } from './pattern-stats';
import { decodeDuration, ENDED_NONE, ENDED_OK, isSuccessCode, SessionStore } from './session-store';
import { decodeSnapshot, encodeSnapshot, type CounterState } from './snapshot-codec';
import { wilsonLowerBound } from './wilson';
import { Growable } from './growable-array';

export interface PatternCounterOptions extends Partial<MiningOptions> {
  /** The one tenant this counter counts; when absent, the tenant of the first session. */
  tenantId?: string;
}

const MAX_NODES = 2 ** 31 - 1;

const STATE_CANDIDATE = 0;
const STATE_QUEUED = 1;
const STATE_FREQUENT = 2;

/** A listed pattern before it is materialised. */
interface Listed {
  node: number;
  tools: number[];
  support: number;
  mask: number;
  key: string;
}

/**
 * Incremental counts of gapped tool sequences for ONE tenant (see README.md for the algorithm).
 *
 * The tool sequences form a trie. A node is a candidate until its support (distinct sessions)
 * reaches the counting threshold; meanwhile it keeps the (few) sessions it was seen in. Once it
 * is frequent, those sessions are re-scanned for its extensions, and from then on every new
 * session extends it directly. So every frequent pattern has exact counts for all its one-step
 * extensions, whatever the order the sessions arrived in, and the work per session is bounded
 * by its length, maxGap, maxSteps and maxWorkPerSession.
 */
export class PatternCounter {
  private readonly o: MiningOptions;
  private tenant: string | undefined;
  private store: SessionStore;

  private parent = new Growable(Int32Array, 4096);
  private tool = new Growable(Int32Array, 4096);
  private depth = new Growable(Uint8Array, 4096);
  private count = new Growable(Int32Array, 4096);
  private stamp = new Growable(Int32Array, 4096);
  private state = new Growable(Uint8Array, 4096);
  private firstChild = new Growable(Int32Array, 4096);
  private nextSibling = new Growable(Int32Array, 4096);
  /** Tool id -> child node, for frequent nodes only (only they are extended): small-integer keys. */
  private children: (Map<number, number> | undefined)[] = [];
  /**
   * Sessions each candidate was seen in, as linked lists in one pool (newest first): no
   * per-node array for the many nodes that never become frequent.
   */
  private candHead = new Growable(Int32Array, 4096);
  private poolValue = new Growable(Int32Array, 4096);
  private poolNext = new Growable(Int32Array, 4096);
  private patternStats: (PatternStats | undefined)[] = [];
  /** Pattern id -> node, for frequent nodes of at least minSteps steps. */
  private readonly byId = new Map<string, number>();
  private nodeId: (string | undefined)[] = [];
  /** Sorted tool multiset -> frequent nodes with those tools (order variants). */
  private readonly variantsByKey = new Map<string, number[]>();

  private queue: number[] = [];
  private threshold = 0;
  /** recountStoredSessions only: receives every key the counting loop looks up. */
  private captured: number[] | undefined;
  /** Added to the session index to make the per-session stamp (changed only by recountStoredSessions). */
  private stampBase = 0;
  private budget = 0;
  private promotionBudget = 0;
  private truncatedNow = false;
  /**
   * Scratch per depth d (no allocation while counting): the occurrence ends of the node being
   * extended at depth d (levelEnds/levelPreds/levelLen; preds index level d - 1), and the
   * (child, end, pred) triples of its frequent children (triples/tripleLen).
   */
  private levelEnds: Int32Array[] = [];
  private levelPreds: Int32Array[] = [];
  private readonly levelLen: number[] = [];
  private triples: Int32Array[] = [];
  /** Per node: the extend call that last grouped it (to take each frequent child once). */
  private groupMark = new Growable(Int32Array, 4096);
  private callId = 0;

  private counters = { visits: 0, truncatedSessions: 0, clippedSessions: 0, promotions: 0 };

  constructor(opts: PatternCounterOptions = {}) {
    const { tenantId, ...mining } = opts;
    this.o = resolveMiningOptions(mining);
    this.tenant = tenantId;
    this.store = new SessionStore(this.o.payloadWindowSessions, this.o.maxSessionSteps);
    this.newNode(-1, -1, 0);
    this.state.data[0] = STATE_FREQUENT;
    this.children[0] = new Map();
  }

  get options(): Readonly<MiningOptions> {
    return this.o;
  }

  get tenantId(): string | undefined {
    return this.tenant;
  }

  get sessionsSeen(): number {
    return this.store.sessionCount;
  }

  /** Support a pattern needs to be extended and listed now: max(minSupport, ceil(minSupportRatio × sessionsSeen)). */
  countingThreshold(): number {
    return Math.max(this.o.minSupport, Math.ceil(this.o.minSupportRatio * this.store.sessionCount));
  }

  /** Counts one closed session of this counter's tenant (sessions without tool calls are ignored). */
  addSession(s: ClosedSession): void {
    if (this.tenant === undefined) this.tenant = s.tenantId;
    else if (s.tenantId !== this.tenant) {
      throw new Error(`tenantId: this counter counts tenant ${JSON.stringify(this.tenant)}, not ${JSON.stringify(s.tenantId)}`);
    }
    if (!Array.isArray(s.steps) || s.steps.length === 0) return;
    const { index, clipped } = this.store.append(s);
    if (clipped) this.counters.clippedSessions++;
    this.threshold = this.countingThreshold();
    this.truncatedNow = false;
    this.countLive(index);
    if (this.truncatedNow) this.counters.truncatedSessions++;
    this.drainPromotions();
  }

  addSessions(sessions: Iterable<ClosedSession>): void {
    for (const s of sessions) this.addSession(s);
  }

  // ---- counting ----------------------------------------------------------------------------

  private newNode(parent: number, tool: number, depth: number): number {
    const id = this.parent.length;
    if (id >= MAX_NODES) throw new Error('pattern trie is full');
    this.parent.push(parent);
    this.tool.push(tool);
    this.depth.push(depth);
    this.count.push(0);
    this.stamp.push(-1);
    this.state.push(STATE_CANDIDATE);
    this.firstChild.push(-1);
    this.nextSibling.push(-1);
    this.candHead.push(-1);
    this.groupMark.push(0);
    this.children.push(undefined);
    this.patternStats.push(undefined);
    this.nodeId.push(undefined);
    if (parent >= 0) {
      this.nextSibling.data[id] = this.firstChild.data[parent];
      this.firstChild.data[parent] = id;
      (this.children[parent] as Map<number, number>).set(tool, id);
    }
    return id;
  }

  private countLive(s: number): void {
    this.budget = this.o.maxWorkPerSession;
    this.extend(0, 0, s, this.store.toolsOf(s));
    // What is left of the session's budget gates promotions (see drainPromotions).
    this.promotionBudget = Math.max(this.budget, 0);
  }

  /** Room for `size` ends at depth d (and `size` triples at depth d - 1, whose children they are). */
  private ensureLevel(d: number, size: number): void {
    for (let i = this.levelEnds.length; i <= d; i++) {
      this.levelEnds.push(new Int32Array(64));
      this.levelPreds.push(new Int32Array(64));
      this.levelLen.push(0);
      this.triples.push(new Int32Array(192));
    }
    if (this.levelEnds[d].length < size) {
      const n = Math.max(size, this.levelEnds[d].length * 2);
      const ends = new Int32Array(n);
      const preds = new Int32Array(n);
      ends.set(this.levelEnds[d]);
      preds.set(this.levelPreds[d]);
      this.levelEnds[d] = ends;
      this.levelPreds[d] = preds;
    }
    if (d > 0 && this.triples[d - 1].length < 3 * size) this.triples[d - 1] = new Int32Array(Math.max(3 * size, this.triples[d - 1].length * 2));
  }

  /**
   * Visits every position that can extend `node` (depth d; at d = 0 the root, extended by every
   * position; else by the positions at most maxGap after one of its ends in levelEnds[d]),
   * counts each child once per session, and recurses into frequent children with their own
   * ends. Positions are visited in increasing order, so a child's first visit is its leftmost
   * occurrence. Allocation-free: this is the counting inner loop.
   */
  private extend(node: number, d: number, s: number, t: Int32Array): void {
    if (d >= this.o.maxSteps) return;
    if (this.budget <= 0) {
      this.truncatedNow = true;
      return;
    }
    const L = t.length;
    const root = d === 0;
    const gap = this.o.maxGap;
    const E = root ? L : this.levelLen[d];
    this.ensureLevel(d + 1, root ? L : Math.min(L, E * (gap + 1)));
    const ends = this.levelEnds[d];
    const tb = this.triples[d];
    const children = this.children[node] as Map<number, number>;
    const mark = s + this.stampBase;
    // Statistics are kept for patterns that can be listed; shorter ones only need counts.
    const withStats = d + 1 >= this.o.minSteps;
    let count = this.count.data;
    let stamp = this.stamp.data;
    let state = this.state.data;
    let tn = 0;
    let covered = -1;
    let visited = 0;
    for (let p = 0; p < E; p++) {
      let from: number;
      let to: number;
      if (root) {
        from = p;
        to = p;
      } else {
        const e = ends[p];
        from = e + 1 > covered ? e + 1 : covered + 1;
        to = e + 1 + gap < L - 1 ? e + 1 + gap : L - 1;
      }
      for (let j = from; j <= to; j++) {
        const x = t[j];
        let c = children.get(x);
        if (c === undefined) {
          c = this.newNode(node, x, d + 1);
          count = this.count.data;
          stamp = this.stamp.data;
          state = this.state.data;
        }
        if (stamp[c] !== mark) {
          stamp[c] = mark;
          count[c]++;
          if (state[c] !== STATE_FREQUENT) this.candidateSeen(c, s);
          else if (withStats) this.record(c, d + 1, s, j, root ? -1 : p);
        }
        if (state[c] === STATE_FREQUENT) {
          tb[tn] = c;
          tb[tn + 1] = j;
          tb[tn + 2] = root ? -1 : p;
          tn += 3;
        }
      }
      if (to >= from) {
        visited += to - from + 1;
        if (this.captured) for (let j = from; j <= to; j++) this.captured.push(node, t[j], s);
      }
      if (to > covered) covered = to;
    }
    this.counters.visits += visited;
    this.budget -= visited;
    if (tn === 0) return;
    // Each frequent child once, in order of first visit, with its ends gathered from the triples.
    const call = this.nextCallId();
    const gm = this.groupMark.data;
    for (let a = 0; a < tn; a += 3) {
      const c = tb[a];
      if (gm[c] === call) continue;
      gm[c] = call;
      const childEnds = this.levelEnds[d + 1];
      const childPreds = this.levelPreds[d + 1];
      let m = 0;
      for (let b = a; b < tn; b += 3) {
        if (tb[b] !== c) continue;
        childEnds[m] = tb[b + 1];
        childPreds[m] = tb[b + 2];
        m++;
      }
      this.levelLen[d + 1] = m;
      this.extend(c, d + 1, s, t);
    }
  }

  private nextCallId(): number {
    if (this.callId >= 0x7ffffff0) {
      this.callId = 0;
      this.groupMark.data.fill(0);
    }
    return ++this.callId;
  }

  /** A candidate seen for the first time in session s: remember the session; queue it once frequent. */
  private candidateSeen(c: number, s: number): void {
    const entry = this.poolValue.push(s);
    this.poolNext.push(this.candHead.data[c]);
    this.candHead.data[c] = entry;
    if (this.state.data[c] === STATE_CANDIDATE && this.count.data[c] >= this.threshold) {
      this.state.data[c] = STATE_QUEUED;
      this.queue.push(c);
    }
  }

  /**
   * Statistics of frequent node c (depth d) for its leftmost occurrence in session s, which
   * ends at position j; p indexes the previous step's end in levelEnds[d - 1].
   */
  private record(c: number, d: number, s: number, j: number, p: number): void {
    const st = this.patternStats[c] as PatternStats;
    const store = this.store;
    const off = store.stepOffset(s);
    const codes = store.stepCodes.data;
    let code = codes[off + j];
    let ok = isSuccessCode(code) ? 1 : 0;
    let dur = decodeDuration(code);
    for (let level = d - 1; level >= 1; level--) {
      code = codes[off + this.levelEnds[level][p]];
      if (isSuccessCode(code)) ok++;
      dur += decodeDuration(code);
      p = this.levelPreds[level][p];
    }
    st.okSteps += ok;
    st.steps += d;
    st.durationSum += dur;
    st.durations.add(dur);
    const ended = store.sessionEnded.data[s];
    if (ended !== ENDED_NONE) {
      st.endedSessions++;
      if (ended === ENDED_OK) st.endedOk++;
    }
    const intent = store.sessionIntent.data[s];
    if (intent >= 0) st.intents.add(intent);
    const user = store.sessionUser.data[s];
    if (user >= 0) st.users.add(user);
    const agent = store.sessionAgent.data[s];
    if (agent >= 0) st.agents.add(agent);
    const start = store.sessionStart.data[s];
    const end = store.sessionEnd.data[s];
    if (start < st.firstSeenAt) st.firstSeenAt = start;
    if (end > st.lastSeenAt) st.lastSeenAt = end;
    if (this.o.examplesPerPattern > 0 && store.retain(s)) store.release(st.addExample(s, this.o.examplesPerPattern));
  }

  /**
   * Promotes queued nodes while the session's work budget lasts; the rest wait for the next
   * session (their candidate lists keep growing meanwhile, so the late backfill is still exact).
   * This bounds the cascade a burst of new patterns could set off in one session.
   */
  private drainPromotions(): void {
    let head = 0;
    while (head < this.queue.length && this.promotionBudget > 0) this.promote(this.queue[head++]);
    this.queue = head === this.queue.length ? [] : this.queue.slice(head);
  }

  /**
   * Promotes everything still queued, whatever it costs. Only needed after sessions that hit
   * maxWorkPerSession (queued promotions otherwise run within the next sessions' budgets).
   */
  flushPromotions(): void {
    const saved = this.promotionBudget;
    this.promotionBudget = Infinity;
    this.drainPromotions();
    this.promotionBudget = saved;
  }

  /** c reached the threshold: it becomes frequent, and the sessions it was seen in are scanned for its extensions. */
  private promote(c: number): void {
    this.counters.promotions++;
    this.state.data[c] = STATE_FREQUENT;
    this.children[c] = new Map();
    const sessions = this.candidateSessions(c);
    this.candHead.data[c] = -1;
    const path = this.toolPath(c);
    const d = path.length;
    const withStats = d >= this.o.minSteps;
    if (withStats) {
      this.patternStats[c] = new PatternStats(this.o.topK);
      this.register(c, path);
    }
    for (const s of sessions) {
      const t = this.store.toolsOf(s);
      this.budget = this.o.maxWorkPerSession;
      this.promotionBudget -= t.length * d;
      this.truncatedNow = false;
      if (!this.embed(path, t)) continue;
      if (withStats) this.record(c, d, s, this.levelEnds[d][0], this.levelPreds[d][0]);
      const before = this.budget;
      this.extend(c, d, s, t);
      this.promotionBudget -= before - this.budget;
    }
  }

  /** Fills levelEnds/levelPreds/levelLen 1..path.length with every occurrence end of the path in t; false if none. */
  private embed(path: number[], t: Int32Array): boolean {
    const gap = this.o.maxGap;
    for (let k = 1; k <= path.length; k++) this.ensureLevel(k, t.length);
    let ends = this.levelEnds[1];
    let preds = this.levelPreds[1];
    let n = 0;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === path[0]) {
        ends[n] = i;
        preds[n] = -1;
        n++;
      }
    }
    this.levelLen[1] = n;
    for (let k = 1; k < path.length && n > 0; k++) {
      const next = this.levelEnds[k + 1];
      const nextPreds = this.levelPreds[k + 1];
      let m = 0;
      let covered = -1;
      for (let p = 0; p < n; p++) {
        const e = ends[p];
        const from = Math.max(e + 1, covered + 1);
        const to = Math.min(e + 1 + gap, t.length - 1);
        for (let j = from; j <= to; j++) {
          if (t[j] === path[k]) {
            next[m] = j;
            nextPreds[m] = p;
            m++;
          }
        }
        if (to > covered) covered = to;
      }
      ends = next;
      preds = nextPreds;
      n = m;
      this.levelLen[k + 1] = m;
    }
    return n > 0;
  }

  /** Sessions a candidate was seen in, oldest first. */
  private candidateSessions(node: number): number[] {
    const out: number[] = [];
    for (let e = this.candHead.data[node]; e >= 0; e = this.poolNext.data[e]) out.push(this.poolValue.data[e]);
    return out.reverse();
  }

  private toolPath(node: number): number[] {
    const out: number[] = [];
    for (let n = node; n > 0; n = this.parent.data[n]) out.push(this.tool.data[n]);
    return out.reverse();
  }

  private register(node: number, path: number[]): void {
    const id = patternIdOf(this.tenant ?? '', path.map((x) => this.store.tools.names[x]));
    this.nodeId[node] = id;
    this.byId.set(id, node);
    const key = multisetKey(path);
    const list = this.variantsByKey.get(key);
    if (list) list.push(node);
    else this.variantsByKey.set(key, [node]);
  }

  /**
   * For benchmarks only: runs the counting loop again over stored sessions [from, to), as if
   * they were new, without promotions (so counts change: use a throwaway copy, e.g. from a
   * snapshot). With `keys`, the (node, tool, session) triple of every lookup is appended to it.
   * every (node, tool) key the loop looks up is appended to it, for a bare Map comparison.
   */
  recountStoredSessions(from: number, to: number, keys?: number[]): { visits: number } {
    const before = this.counters.visits;
    this.captured = keys;
    this.stampBase = 2 ** 30;
    try {
      for (let s = Math.max(0, from); s < Math.min(to, this.store.sessionCount); s++) {
        // No promotions: the counts are doubled here, and promotion is not the inner loop.
        this.threshold = Infinity;
        this.countLive(s);
      }
    } finally {
      this.stampBase = 0;
      this.captured = undefined;
    }
    return { visits: this.counters.visits - before };
  }

  /**
   * For benchmarks only: the counting step of the inner loop (child lookup by tool id, the
   * once-per-session check, the support increment) over tokens captured by
   * recountStoredSessions, as (node, tool, session) triples. Returns the supports incremented.
   */
  countCapturedTokens(tokens: Int32Array): number {
    const count = this.count.data;
    const stamp = this.stamp.data;
    const children = this.children;
    let bumped = 0;
    for (let i = 0; i < tokens.length; i += 3) {
      const c = (children[tokens[i]] as Map<number, number>).get(tokens[i + 1]);
      if (c === undefined) continue;
      const mark = tokens[i + 2] + 0x20000000;
      if (stamp[c] !== mark) {
        stamp[c] = mark;
        count[c]++;
        bumped++;
      }
    }
    return bumped;
  }

  // ---- reading -----------------------------------------------------------------------------

  /** Patterns passing the filters, closed, sorted by score (then support). */
  patterns(filter: PatternFilter = {}): MinedPattern[] {
    const thr = Math.max(filter.minSupport ?? this.o.minSupport, this.countingThreshold());
    const minSteps = Math.max(1, filter.minSteps ?? this.o.minSteps);
    const tol = filter.closedTolerance ?? this.o.closedTolerance;
    const minSuccess = filter.minSuccessRate ?? this.o.minSuccessRate;
    const listed: Listed[] = [];
    for (const node of this.byId.values()) {
      const support = this.count.data[node];
      if (support < thr || this.depth.data[node] < minSteps) continue;
      const tools = this.toolPath(node);
      listed.push({ node, tools, support, mask: maskOf(tools), key: multisetKey(tools) });
    }
    let kept = closedOnly(listed, tol);
    const variants = new Map<string, Listed[]>();
    for (const l of listed) {
      const v = variants.get(l.key);
      if (v) v.push(l);
      else variants.set(l.key, [l]);
    }
    if (filter.mergeVariants ?? true) {
      const best = new Map<string, Listed>();
      for (const l of kept) {
        const b = best.get(l.key);
        if (!b || l.support > b.support || (l.support === b.support && l.node < b.node)) best.set(l.key, l);
      }
      kept = kept.filter((l) => best.get(l.key) === l);
    }
    let out = kept.map((l) => this.materialise(l.node, (variants.get(l.key) ?? []).filter((v) => v !== l).map((v) => v.node)));
    out = out.filter((p) => p.successRate >= minSuccess);
    if (filter.userId !== undefined) out = out.filter((p) => (p.supportByUser[filter.userId as string] ?? 0) >= (filter.minSupport ?? this.o.minSupport));
    if (filter.agentId !== undefined) out = out.filter((p) => (p.supportByAgent[filter.agentId as string] ?? 0) >= (filter.minSupport ?? this.o.minSupport));
    out.sort((a, b) => b.score - a.score || b.support - a.support || (a.id < b.id ? -1 : 1));
    return filter.limit !== undefined ? out.slice(0, Math.max(0, filter.limit)) : out;
  }

  /** A tracked pattern by id (listed or not), with its order variants. */
  pattern(id: string): MinedPattern | undefined {
    const node = this.byId.get(id);
    if (node === undefined) return undefined;
    return this.materialise(node, this.variantNodes(node));
  }

  /** The kept occurrences of a pattern, and of its order variants unless withVariants is false; oldest first. */
  occurrences(id: string, opts: { withVariants?: boolean } = {}): PatternOccurrence[] {
    const node = this.byId.get(id);
    if (node === undefined) return [];
    const nodes = [node, ...(opts.withVariants === false ? [] : this.variantNodes(node))];
    const out: PatternOccurrence[] = [];
    for (const n of nodes) {
      const st = this.patternStats[n];
      if (!st) continue;
      const pid = this.nodeId[n] as string;
      const path = this.toolPath(n);
      for (const session of st.orderedExamples()) {
        const payload = this.store.payloads.get(session);
        const positions = payload ? this.leftmostOccurrence(path, session) : undefined;
        if (!payload || !positions) continue;
        out.push({ sessionId: this.store.sessionIds[session], patternId: pid, steps: positions.map((p) => payload[p]) });
      }
    }
    return out;
  }

  /** Positions of the leftmost occurrence of a tool path in a stored session (the one statistics used). */
  private leftmostOccurrence(path: number[], session: number): number[] | undefined {
    if (!this.embed(path, this.store.toolsOf(session))) return undefined;
    const d = path.length;
    const out = new Array<number>(d);
    let p = 0;
    out[d - 1] = this.levelEnds[d][0];
    p = this.levelPreds[d][0];
    for (let level = d - 1; level >= 1; level--) {
      out[level - 1] = this.levelEnds[level][p];
      p = this.levelPreds[level][p];
    }
    return out;
  }

  private variantNodes(node: number): number[] {
    const thr = this.countingThreshold();
    const key = multisetKey(this.toolPath(node));
    return (this.variantsByKey.get(key) ?? []).filter((n) => n !== node && this.count.data[n] >= thr);
  }

  /**
   * Tools usually called after `called`: the longest suffix of it that is a tracked pattern
   * (the context), and that pattern's one-step extensions with their support. An extension may
   * follow after up to maxGap other calls.
   */
  nextToolCounts(called: string[]): { context: string[]; contextSupport: number; next: { tool: string; support: number }[] } {
    const ids = called.map((t) => this.store.tools.find(t));
    const maxLen = Math.min(ids.length, this.o.maxSteps - 1);
    for (let len = maxLen; len >= 1; len--) {
      let node = 0;
      for (let i = ids.length - len; i < ids.length && node >= 0; i++) {
        const x = ids[i];
        node = x === undefined ? -1 : (this.children[node]?.get(x) ?? -1);
      }
      if (node <= 0 || this.state.data[node] !== STATE_FREQUENT) continue;
      return { context: called.slice(called.length - len), contextSupport: this.count.data[node], next: this.childCounts(node) };
    }
    return { context: [], contextSupport: this.store.sessionCount, next: this.childCounts(0) };
  }

  private childCounts(node: number): { tool: string; support: number }[] {
    const out: { tool: string; support: number }[] = [];
    for (let c = this.firstChild.data[node]; c >= 0; c = this.nextSibling.data[c]) {
      out.push({ tool: this.store.tools.names[this.tool.data[c]], support: this.count.data[c] });
    }
    return out.sort((a, b) => b.support - a.support || (a.tool < b.tool ? -1 : 1));
  }

  private materialise(node: number, variantNodes: number[]): MinedPattern {
    const st = this.patternStats[node] as PatternStats;
    const store = this.store;
    const tools = this.toolPath(node).map((x) => store.tools.names[x]);
    const support = this.count.data[node];
    const stepSuccessRate = st.steps > 0 ? st.okSteps / st.steps : 0;
    const sessionSuccessRate = st.endedSessions > 0 ? st.endedOk / st.endedSessions : undefined;
    const successRate = sessionSuccessRate ?? stepSuccessRate;
    const confidence = sessionSuccessRate !== undefined ? wilsonLowerBound(st.endedOk, st.endedSessions) : wilsonLowerBound(st.okSteps, st.steps);
    const named = (t: { top(): Array<[number, number]> }, names: string[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, c] of t.top()) out[names[k]] = c;
      return out;
    };
    return {
      id: this.nodeId[node] as string,
      tenantId: this.tenant ?? '',
      tools,
      support,
      stepSuccessRate,
      ...(sessionSuccessRate !== undefined ? { sessionSuccessRate } : {}),
      endedSessions: st.endedSessions,
      successRate,
      meanDurationMs: st.durations.count > 0 ? st.durationSum / st.durations.count : 0,
      p95DurationMs: st.durations.quantile(0.95),
      score: support * successRate,
      confidence,
      intents: st.intents.top().map(([k, count]) => ({ text: store.intents.names[k], count })),
      supportByUser: named(st.users, store.users.names),
      supportByAgent: named(st.agents, store.agents.names),
      exampleSessionIds: st.orderedExamples().map((e) => store.sessionIds[e]),
      variantIds: variantNodes.map((n) => this.nodeId[n] as string).sort(),
      firstSeenAt: Number.isFinite(st.firstSeenAt) ? st.firstSeenAt : 0,
      lastSeenAt: Number.isFinite(st.lastSeenAt) ? st.lastSeenAt : 0,
    };
  }

  stats(): PatternCounterStats {
    let frequent = 0;
    const state = this.state.data;
    for (let i = 1; i < this.state.length; i++) if (state[i] === STATE_FREQUENT) frequent++;
    return {
      ...(this.tenant !== undefined ? { tenantId: this.tenant } : {}),
      sessionsSeen: this.store.sessionCount,
      storedSteps: this.store.stepCount,
      nodes: this.parent.length,
      frequentNodes: frequent,
      countingThreshold: this.countingThreshold(),
      ...this.counters,
      queuedPromotions: this.queue.length,
    };
  }

  // ---- snapshots ---------------------------------------------------------------------------

  /** Full state as a compact Buffer (deflated binary); fromSnapshot(toSnapshot()) behaves identically. */
  toSnapshot(): Buffer {
    const state: CounterState = {
      options: this.o,
      tenantId: this.tenant,
      counters: this.counters,
      store: this.store,
      trie: {
        parent: this.parent.toArray(),
        tool: this.tool.toArray(),
        depth: this.depth.toArray(),
        count: this.count.toArray(),
        state: this.state.toArray(),
      },
      candidates: Array.from({ length: this.parent.length }, (_, i) => (this.candHead.data[i] >= 0 ? this.candidateSessions(i) : undefined)),
      stats: this.patternStats,
    };
    return encodeSnapshot(state);
  }

  static fromSnapshot(buf: Buffer): PatternCounter {
    const s = decodeSnapshot(buf);
    const c = new PatternCounter({ ...s.options, ...(s.tenantId !== undefined ? { tenantId: s.tenantId } : {}) });
    c.store = s.store;
    c.counters = { ...s.counters };
    // Rebuild the trie in node order (parents always precede children).
    const n = s.trie.parent.length;
    c.parent = new Growable(Int32Array, 16);
    c.tool = new Growable(Int32Array, 16);
    c.depth = new Growable(Uint8Array, 16);
    c.count = new Growable(Int32Array, 16);
    c.stamp = new Growable(Int32Array, 16);
    c.state = new Growable(Uint8Array, 16);
    c.firstChild = new Growable(Int32Array, 16);
    c.nextSibling = new Growable(Int32Array, 16);
    c.candHead = new Growable(Int32Array, 16);
    c.poolValue = new Growable(Int32Array, 16);
    c.poolNext = new Growable(Int32Array, 16);
    c.children = [];
    c.patternStats = [];
    c.nodeId = [];
    for (let i = 0; i < n; i++) {
      c.newNode(s.trie.parent[i], s.trie.tool[i], s.trie.depth[i]);
      c.count.data[i] = s.trie.count[i];
      c.state.data[i] = s.trie.state[i];
      if (c.state.data[i] === STATE_FREQUENT) c.children[i] = new Map();
    }
    for (let i = 0; i < n; i++) {
      for (const session of s.candidates[i] ?? []) {
        const entry = c.poolValue.push(session);
        c.poolNext.push(c.candHead.data[i]);
        c.candHead.data[i] = entry;
      }
    }
    c.patternStats = s.stats;
    for (let i = 0; i < n; i++) if (c.state.data[i] === STATE_QUEUED) c.queue.push(i);
    for (let i = 1; i < n; i++) {
      if (c.state.data[i] === STATE_FREQUENT && c.depth.data[i] >= c.o.minSteps) c.register(i, c.toolPath(i));
    }
    return c;
  }
}

/** Stable pattern id: sha1 of the tenant and the tool sequence, 16 hex chars. */
export function patternIdOf(tenantId: string, tools: string[]): string {
  return createHash('sha1').update(JSON.stringify([tenantId, ...tools])).digest('hex').slice(0, 16);
}

function multisetKey(tools: number[]): string {
  return tools
    .slice()
    .sort((a, b) => a - b)
    .join(',');
}

function maskOf(tools: number[]): number {
  let m = 0;
  for (const t of tools) m |= 1 << (Math.imul(t, 0x9e3779b1) >>> 27);
  return m >>> 0;
}

function isSubsequence(short: number[], long: number[]): boolean {
  let i = 0;
  for (let j = 0; j < long.length && i < short.length; j++) if (long[j] === short[i]) i++;
  return i === short.length;
}

/**
 * Drops a pattern when the longer patterns containing it explain its sessions: the same tools in
 * one order (strict closedness), or its order variants together (steps seen in both orders).
 */
function closedOnly(listed: Listed[], tolerance: number): Listed[] {
  const byLength = [...listed].sort((a, b) => b.tools.length - a.tools.length);
  const kept: Listed[] = [];
  for (const p of listed) {
    const explained = new Map<string, number>();
    let best = 0;
    for (const q of byLength) {
      if (q.tools.length <= p.tools.length) break;
      if ((p.mask & ~q.mask) !== 0 || !isSubsequence(p.tools, q.tools)) continue;
      const sum = (explained.get(q.key) ?? 0) + q.support;
      explained.set(q.key, sum);
      if (sum > best) best = sum;
    }
    if (best === 0 || p.support > (1 + tolerance) * best) kept.push(p);
  }
  return kept;
}
