import { createHash } from 'node:crypto';
import { resolveMiningOptions, type MiningOptions } from './mining-options';
import type { ClosedSession, MinedPattern, PatternCounterStats, PatternFilter, PatternOccurrence } from './mining-types';
import { PatternStats } from './pattern-stats';
import { ENDED_NONE, ENDED_OK, SessionStore } from './session-store';
import { decodeSnapshot, encodeSnapshot, type CounterState } from './snapshot-codec';
import { closedNodes, notContainedInGrown, type ClosureSource } from './closed-patterns';
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
/** Between slots of a node not seen yet (see `between`). */
const BETWEEN_UNSET = -2;

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
  /**
   * Per node, 4 integers side by side (one cache line per update): successful steps, steps,
   * sessions with a session_end, those that ended well, over the leftmost occurrences. Kept for
   * every frequent node: closedness and the score need them.
   */
  private scalars = new Growable(Int32Array, 4 * 4096);
  /**
   * The rest of the statistics (durations, intents, users, agents, examples, repeats), only for
   * the patterns a listing returned or a caller asked for (`track`): filled from the stored
   * sessions when a pattern is first tracked, then kept up to date live. Keeping them for every
   * frequent node cost a cache-missing update per node and session; most nodes are never shown.
   */
  private patternStats: (PatternStats | undefined)[] = [];
  /** Pattern id -> node, for frequent nodes of at least minSteps steps. */
  private readonly byId = new Map<string, number>();
  private nodeId: (string | undefined)[] = [];
  /** Sorted tool multiset -> frequent nodes with those tools (order variants). */
  private readonly variantsByKey = new Map<string, number[]>();

  /**
   * Up to two tools found between the parent's end and this node's step in EVERY session the
   * node was seen in (-1: none left; BETWEEN_UNSET: not seen yet). A node with one is
   * absorbed: the pattern through that tool has the same support, so it is not closed and its
   * extensions are not counted (BIDE's backscan pruning, on the prefix trie).
   */
  private betA = new Growable(Int32Array, 4096);
  private betB = new Growable(Int32Array, 4096);
  /** Multiset key id per registered node (order variants share one). */
  private keyIdOf = new Growable(Int32Array, 4096);
  private readonly keyIds = new Map<string, number>();
  /** Growth bookkeeping: sessions at the last full growth, and the seeds grown since. */
  private growth = { fullAt: 0, seeds: new Set<number>(), grown: 0, skippedSeeds: 0, preceded: new Set<number>() };
  /** Materialised patterns by node, reused while their figures have not moved. */
  private readonly materialised = new Map<number, { sig: string; pattern: MinedPattern }>();
  /** Scratch: the run positions of one occurrence. */
  private positions = new Int32Array(256);

  private queue: number[] = [];
  private threshold = 0;
  /** Sessions counted so far (the store's count, except while an old snapshot is recounted). */
  private counted = 0;
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
  /** Set when this counter was rebuilt from an older snapshot format (its trie was recounted). */
  rebuiltFromFormat: string | undefined;

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
    return Math.max(this.o.minSupport, Math.ceil(this.o.minSupportRatio * this.counted));
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
    this.countStored(index);
  }

  /** Counts stored session `index` (the next one not counted yet). */
  private countStored(index: number): void {
    this.counted = index + 1;
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
    this.betA.push(BETWEEN_UNSET);
    this.betB.push(BETWEEN_UNSET);
    this.keyIdOf.push(-1);
    this.children.push(undefined);
    this.patternStats.push(undefined);
    for (let k = 0; k < 4; k++) this.scalars.push(0);
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
    this.extend(0, 0, s, this.store.runsOf(s));
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
   * occurrence. `t` is the session's runs (a loop of one tool is one position). Beyond maxSteps
   * only the children that growth created are counted (no new candidates). Allocation-free:
   * this is the counting inner loop.
   */
  private extend(node: number, d: number, s: number, t: Int32Array): void {
    if (d >= this.o.maxPatternSteps) return;
    const grow = d < this.o.maxSteps;
    const children = this.children[node] as Map<number, number>;
    if (!grow && children.size === 0) return;
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
          if (!grow) continue;
          c = this.newNode(node, x, d + 1);
          count = this.count.data;
          stamp = this.stamp.data;
          state = this.state.data;
        }
        if (stamp[c] !== mark) {
          stamp[c] = mark;
          count[c]++;
          if (state[c] !== STATE_FREQUENT) {
            if (!root) this.between(c, ends, p, E, j, t);
            this.candidateSeen(c, s);
          } else if (withStats) this.record(c, d + 1, s, j, root ? -1 : p);
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
    if (this.state.data[c] === STATE_CANDIDATE && this.count.data[c] >= this.threshold && !this.absorbed(c)) {
      this.state.data[c] = STATE_QUEUED;
      this.queue.push(c);
    }
  }

  /** True when some tool sat between the parent and c in every session c was seen in. */
  private absorbed(c: number): boolean {
    return this.betA.data[c] >= 0 || this.betB.data[c] >= 0;
  }

  /**
   * c's leftmost position j in this session was reached from ends[p] (the first end whose window
   * holds j); the tools between the latest end before j and j are intersected with c's slots.
   * At most maxGap + 1 ends lie before j in that window, so this is O(maxGap).
   */
  private between(c: number, ends: Int32Array, p: number, E: number, j: number, t: Int32Array): void {
    let q = p;
    while (q + 1 < E && ends[q + 1] < j) q++;
    const e = ends[q];
    const a = this.betA.data;
    const b = this.betB.data;
    if (a[c] === BETWEEN_UNSET) {
      a[c] = e + 1 < j ? t[e + 1] : -1;
      b[c] = e + 2 < j ? t[e + 2] : -1;
      return;
    }
    if (a[c] >= 0 && !occursIn(t, e + 1, j, a[c])) a[c] = -1;
    if (b[c] >= 0 && !occursIn(t, e + 1, j, b[c])) b[c] = -1;
  }

  /**
   * Statistics of frequent node c (depth d) for its leftmost occurrence in session s, which
   * ends at run j; p indexes the previous step's end in levelEnds[d - 1].
   */
  private record(c: number, d: number, s: number, j: number, p: number): void {
    const pos = this.positions;
    pos[d - 1] = j;
    for (let level = d - 1; level >= 1; level--) {
      pos[level - 1] = this.levelEnds[level][p];
      p = this.levelPreds[level][p];
    }
    this.recordAt(c, d, s, pos);
  }

  /** Statistics of frequent node c (depth d) for the occurrence at runs pos[0..d-1] of session s. */
  private recordAt(c: number, d: number, s: number, pos: Int32Array): void {
    const store = this.store;
    const off = store.runOffset(s);
    const runOk = store.runOk.data;
    let ok = 0;
    for (let k = 0; k < d; k++) ok += runOk[off + pos[k]];
    const sc = this.scalars.data;
    const i = 4 * c;
    sc[i] += ok;
    sc[i + 1] += d;
    const ended = store.sessionEnded.data[s];
    if (ended !== ENDED_NONE) {
      sc[i + 2]++;
      if (ended === ENDED_OK) sc[i + 3]++;
    }
    const st = this.patternStats[c];
    if (st) this.recordDetail(st, d, s, pos);
  }

  /** The detailed statistics of a tracked pattern for one occurrence (see `scalars` / `patternStats`). */
  private recordDetail(st: PatternStats, d: number, s: number, pos: Int32Array): void {
    const store = this.store;
    const off = store.runOffset(s);
    const runOk = store.runOk.data;
    const runDuration = store.runDuration.data;
    const runLength = store.runLength.data;
    let ok = 0;
    let dur = 0;
    for (let k = 0; k < d; k++) {
      const r = off + pos[k];
      ok += runOk[r];
      dur += runDuration[r];
      const n = runLength[r];
      st.repeatSum[k] += n;
      if (n > st.repeatMax[k]) st.repeatMax[k] = n;
    }
    st.version++;
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
    if (withStats) this.register(c, path);
    for (const s of sessions) {
      const t = this.store.runsOf(s);
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
    let keyId = this.keyIds.get(key);
    if (keyId === undefined) {
      keyId = this.keyIds.size;
      this.keyIds.set(key, keyId);
    }
    this.keyIdOf.data[node] = keyId;
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

  // ---- growing long patterns ------------------------------------------------------------

  /** Support a pattern needs to be grown beyond maxSteps. */
  growthThreshold(): number {
    return Math.max(this.countingThreshold(), Math.ceil(this.o.growMinShare * this.counted));
  }

  /**
   * Grows patterns longer than maxSteps when due: the seeds (frequent patterns of maxSteps
   * steps) not grown yet, and all seeds again once the tenant has 25 % more sessions than at the
   * last full growth (so the work is amortised: each session is rescanned a bounded number of
   * times). Listing calls it; callers that list on a request path call it beforehand.
   */
  growIfDue(): void {
    if (this.o.maxPatternSteps <= this.o.maxSteps || this.o.maxGrownPatterns === 0 || this.counted === 0) return;
    const full = this.counted >= Math.ceil(this.growth.fullAt * 1.25) && this.counted > this.growth.fullAt;
    this.growLongPatterns(full);
  }

  /**
   * Closure-driven growth (see README): from each seed, over the stored sessions that contain
   * it, extensions are counted (tools within maxGap runs after an occurrence end, distinct
   * sessions); an extension is grown only when it is frequent and not absorbed (no tool sits
   * between it and the pattern in all but growthTolerance of its sessions), and a seed is not
   * grown when a tool precedes it that often (the seed one step earlier grows the same
   * procedure). Grown nodes are ordinary frequent trie nodes: their counts and statistics are
   * exact from their creation (backfilled here), and live counting keeps them up to date.
   */
  growLongPatterns(full = true): { seeds: number; grown: number } {
    const thr = this.growthThreshold();
    const seeds: number[] = [];
    const depth = this.depth.data;
    const state = this.state.data;
    const count = this.count.data;
    for (let n = 1; n < this.parent.length; n++) {
      if (depth[n] === this.o.maxSteps && state[n] === STATE_FREQUENT && count[n] >= thr && (full || !this.growth.seeds.has(n)) && this.branchesAll(n)) seeds.push(n);
    }
    if (full) {
      this.growth.fullAt = this.counted;
      this.growth.seeds.clear();
      this.growth.preceded.clear();
    }
    const before = this.growth.grown;
    if (seeds.length === 0) return { seeds: 0, grown: 0 };
    const postings = this.toolPostings();
    // Slots for the tools between: a session holds at most maxGap of them, sessions differ.
    const scratch = new GrowScratch(this.store.tools.names.length, 4 * Math.max(1, this.o.maxGap));
    // Seeds under one parent share its occurrences (computed once, then one level each).
    const byParent = new Map<number, number[]>();
    for (const seed of seeds) {
      const p = this.parent.data[seed];
      const list = byParent.get(p);
      if (list) list.push(seed);
      else byParent.set(p, [seed]);
    }
    for (const [parent, children] of byParent) {
      if (this.growth.grown >= this.o.maxGrownPatterns) break;
      const path = this.toolPath(parent);
      const occs = path.length === 0 ? this.rootOccurrences() : this.occurrencesOf(path, postings);
      for (const seed of children) {
        this.growth.seeds.add(seed);
        if (this.growth.grown >= this.o.maxGrownPatterns) break;
        const seedOccs = this.extendOccurrences(occs, this.tool.data[seed]);
        if (this.precededAlways(seedOccs, scratch) || this.enclosesAlways(seedOccs, this.toolPath(seed), scratch)) {
          // Not closed either: the pattern one tool earlier, or with the tool inside, has (nearly) its support and is grown instead.
          this.growth.preceded.add(seed);
          this.growth.skippedSeeds++;
          continue;
        }
        this.growNode(seed, path.length + 1, seedOccs, thr, scratch);
      }
    }
    return { seeds: seeds.length, grown: this.growth.grown - before };
  }

  /** Every occurrence of `path` in the stored sessions (those holding its rarest tool). */
  private occurrencesOf(path: number[], postings: { length(x: number): number; sessions(x: number): Int32Array }): Occurrences {
    let rarest = path[0];
    for (const x of path) if (postings.length(x) < postings.length(rarest)) rarest = x;
    const runOk = this.store.runOk.data;
    const out: Occurrences = { sess: [], from: [0], ends: [], ok: [], start: [] };
    const d = path.length;
    let ok = new Int32Array(0);
    let start = new Int32Array(0);
    for (const s of postings.sessions(rarest)) {
      if (!this.embed(path, this.store.runsOf(s))) continue;
      const off = this.store.runOffset(s);
      // Carried along each end: the successful steps and the start of the occurrence it closes.
      for (let k = 1; k <= d; k++) {
        const n = this.levelLen[k];
        const ends = this.levelEnds[k];
        const preds = this.levelPreds[k];
        const nextOk = new Int32Array(n);
        const nextStart = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          nextOk[i] = (k === 1 ? 0 : ok[preds[i]]) + runOk[off + ends[i]];
          nextStart[i] = k === 1 ? ends[i] : start[preds[i]];
        }
        ok = nextOk;
        start = nextStart;
      }
      out.sess.push(s);
      for (let i = 0; i < this.levelLen[d]; i++) {
        out.ends.push(this.levelEnds[d][i]);
        out.ok.push(ok[i]);
        out.start.push(start[i]);
      }
      out.from.push(out.ends.length);
    }
    return out;
  }

  /** Sessions as occurrences of the empty pattern (maxSteps = 1: seeds are single tools). */
  private rootOccurrences(): Occurrences {
    const out: Occurrences = { sess: [], from: [0], ends: [], ok: [], start: [], root: true };
    for (let s = 0; s < this.store.sessionCount; s++) {
      out.sess.push(s);
      out.ends.push(-1);
      out.ok.push(0);
      out.start.push(-1);
      out.from.push(out.ends.length);
    }
    return out;
  }

  /** The occurrences of the pattern extended by tool y: y within maxGap runs after an end (each position once, from the first end reaching it). */
  private extendOccurrences(o: Occurrences, y: number): Occurrences {
    const gap = this.o.maxGap;
    const runOk = this.store.runOk.data;
    const tools = this.store.runTools.data;
    const offsets = this.store.runOffsets.data;
    const out: Occurrences = { sess: [], from: [0], ends: [], ok: [], start: [] };
    for (let i = 0; i < o.sess.length; i++) {
      const s = o.sess[i];
      const base = offsets[s];
      const last = offsets[s + 1] - base - 1;
      let had = false;
      let covered = -1;
      for (let p = o.from[i]; p < o.from[i + 1]; p++) {
        const e = o.ends[p];
        const from = Math.max(e + 1, covered + 1);
        const to = o.root ? last : Math.min(e + 1 + gap, last);
        for (let j = from; j <= to; j++) {
          if (tools[base + j] !== y) continue;
          had = true;
          out.ends.push(j);
          out.ok.push(o.ok[p] + runOk[base + j]);
          out.start.push(o.root ? j : o.start[p]);
        }
        if (to > covered) covered = to;
      }
      if (had) {
        out.sess.push(s);
        out.from.push(out.ends.length);
      }
    }
    return out;
  }

  /** True when one tool precedes the leftmost occurrence (within maxGap runs) in all but growthTolerance of the sessions. */
  private precededAlways(o: Occurrences, g: GrowScratch): boolean {
    const gap = this.o.maxGap;
    const tools = this.store.runTools.data;
    const offsets = this.store.runOffsets.data;
    g.begin();
    for (let i = 0; i < o.sess.length; i++) {
      const base = offsets[o.sess[i]];
      const start = o.start[o.from[i]];
      const mark = g.nextMark();
      for (let j = Math.max(0, start - 1 - gap); j < start; j++) g.seen(tools[base + j], mark);
    }
    return o.sess.length > 0 && g.best() >= o.sess.length / (1 + this.o.growthTolerance);
  }

  /**
   * True when one tool that is not a step of the seed lies inside its leftmost occurrence in all
   * but growthTolerance of the sessions: inserting it (where it lies, so gaps only shrink) gives
   * longer patterns, order variants of each other, that together have the seed's support. A
   * pattern that skips one of two independent steps (seen in both orders) is such a seed.
   */
  private enclosesAlways(o: Occurrences, path: number[], g: GrowScratch): boolean {
    const tools = this.store.runTools.data;
    const offsets = this.store.runOffsets.data;
    const own = new Set(path);
    g.begin();
    for (let i = 0; i < o.sess.length; i++) {
      const base = offsets[o.sess[i]];
      const first = o.from[i];
      const mark = g.nextMark();
      for (let j = o.start[first] + 1; j < o.ends[first]; j++) if (!own.has(tools[base + j])) g.seen(tools[base + j], mark);
    }
    return o.sess.length > 0 && g.best() >= o.sess.length / (1 + this.o.growthTolerance);
  }

  private growNode(node: number, d: number, occs: Occurrences, thr: number, g: GrowScratch): void {
    if (d >= this.o.maxPatternSteps || this.growth.grown >= this.o.maxGrownPatterns) return;
    const gap = this.o.maxGap;
    const tools = this.store.runTools.data;
    const offsets = this.store.runOffsets.data;
    const ends = occs.ends;
    g.begin();
    for (let i = 0; i < occs.sess.length; i++) {
      const s = occs.sess[i];
      const base = offsets[s];
      const last = offsets[s + 1] - base - 1;
      const mark = g.nextMark();
      const first = occs.from[i];
      const stop = occs.from[i + 1];
      let covered = -1;
      for (let p = first; p < stop; p++) {
        const from = Math.max(ends[p] + 1, covered + 1);
        const to = Math.min(ends[p] + 1 + gap, last);
        for (let j = from; j <= to; j++) {
          const y = tools[base + j];
          if (!g.seen(y, mark)) continue;
          // The tools between the latest end before j and j: a tool there in (nearly) every session absorbs y.
          let q = p;
          while (q + 1 < stop && ends[q + 1] < j) q++;
          g.between(y, tools, base + ends[q] + 1, base + j);
        }
        if (to > covered) covered = to;
      }
    }
    const least = Math.max(thr, this.o.growMinBranchShare * occs.sess.length);
    const grownTo: Array<[number, number]> = [];
    for (const y of g.touched) {
      const c = g.count[y];
      if (c < least || g.absorbedBy(y) >= c / (1 + this.o.growthTolerance)) continue;
      grownTo.push([y, c]);
    }
    grownTo.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [y] of grownTo) {
      const next = this.extendOccurrences(occs, y);
      let child = (this.children[node] as Map<number, number>).get(y);
      if (child === undefined) {
        if (this.growth.grown >= this.o.maxGrownPatterns) return;
        child = this.newGrownNode(node, y, d + 1, next);
      } else if (this.state.data[child] !== STATE_FREQUENT) continue;
      this.growNode(child, d + 1, next, thr, g);
    }
  }

  /**
   * A frequent node beyond maxSteps, with its exact support and scalar statistics from `occs`
   * (every stored session containing it, leftmost occurrences); detailed statistics come when it
   * is tracked.
   */
  private newGrownNode(parent: number, tool: number, d: number, occs: Occurrences): number {
    const c = this.newNode(parent, tool, d);
    this.state.data[c] = STATE_FREQUENT;
    this.children[c] = new Map();
    this.count.data[c] = occs.sess.length;
    this.register(c, this.toolPath(c));
    this.growth.grown++;
    const sc = this.scalars.data;
    const ended = this.store.sessionEnded.data;
    for (let i = 0; i < occs.sess.length; i++) {
      const s = occs.sess[i];
      sc[4 * c] += occs.ok[occs.from[i]];
      sc[4 * c + 1] += d;
      if (ended[s] !== ENDED_NONE) {
        sc[4 * c + 2]++;
        if (ended[s] === ENDED_OK) sc[4 * c + 3]++;
      }
    }
    return c;
  }

  /**
   * True when every step of node n's path was taken by at least growMinBranchShare of the
   * sessions of the path before it: a seed with an unrelated call that recurred by chance in a
   * few sessions (the 3 of 240 that had it there) is not grown.
   */
  private branchesAll(n: number): boolean {
    const share = this.o.growMinBranchShare;
    for (let x = n; this.depth.data[x] > 1; x = this.parent.data[x]) {
      if (this.count.data[x] < share * this.count.data[this.parent.data[x]]) return false;
    }
    // The same backwards: the first step against the path without it.
    const path = this.toolPath(n);
    let rest = 0;
    for (let k = 1; k < path.length && rest >= 0; k++) rest = this.children[rest]?.get(path[k]) ?? -1;
    return rest <= 0 || this.count.data[n] >= share * this.count.data[rest];
  }

  /** Sessions containing each tool (distinct, ascending), from the stored runs. */
  private toolPostings(): { length(x: number): number; sessions(x: number): Int32Array } {
    const tools = this.store.tools.names.length;
    const n = this.store.sessionCount;
    const counts = new Int32Array(tools + 1);
    const seen = new Int32Array(tools).fill(-1);
    for (let s = 0; s < n; s++) {
      for (const x of this.store.runsOf(s)) {
        if (seen[x] === s) continue;
        seen[x] = s;
        counts[x + 1]++;
      }
    }
    for (let x = 0; x < tools; x++) counts[x + 1] += counts[x];
    const fill = counts.slice(0, tools);
    const out = new Int32Array(counts[tools]);
    seen.fill(-1);
    for (let s = 0; s < n; s++) {
      for (const x of this.store.runsOf(s)) {
        if (seen[x] === s) continue;
        seen[x] = s;
        out[fill[x]++] = s;
      }
    }
    return { length: (x) => counts[x + 1] - counts[x], sessions: (x) => out.subarray(counts[x], counts[x + 1]) };
  }

  // ---- reading -----------------------------------------------------------------------------

  /**
   * Patterns passing the filters, closed, sorted by score (then support), at most `limit`.
   * Closedness is decided on the trie by one-step deletions (closed-patterns.ts), never by
   * comparing all pairs; only the patterns returned are materialised (and reused while their
   * figures have not moved).
   */
  patterns(filter: PatternFilter = {}): MinedPattern[] {
    this.growIfDue();
    const thr = Math.max(filter.minSupport ?? this.o.minSupport, this.countingThreshold());
    const minSteps = Math.max(1, filter.minSteps ?? this.o.minSteps);
    const tol = filter.closedTolerance ?? this.o.closedTolerance;
    const minSuccess = filter.minSuccessRate ?? this.o.minSuccessRate;
    const count = this.count.data;
    const depth = this.depth.data;
    const inListing = (n: number): boolean => this.state.data[n] === STATE_FREQUENT && count[n] >= thr && depth[n] >= minSteps && this.nodeId[n] !== undefined;
    const sc = this.scalars.data;
    const universe: number[] = [];
    for (const node of this.byId.values()) if (inListing(node)) universe.push(node);
    const src: ClosureSource = {
      parent: this.parent.data,
      tool: this.tool.data,
      depth,
      count,
      children: this.children,
      keyIdOf: this.keyIdOf.data,
      weight: (n) => count[n] - (sc[4 * n + 2] - sc[4 * n + 3]),
    };
    let kept = closedNodes(src, universe, tol, inListing).filter((n) => !this.growth.preceded.has(n));
    kept = notContainedInGrown(
      src,
      kept,
      universe.filter((n) => depth[n] > this.o.maxSteps),
      tol,
    );
    if (filter.mergeVariants ?? true) {
      const best = new Map<number, number>();
      for (const n of kept) {
        const key = this.keyIdOf.data[n];
        const b = best.get(key);
        if (b === undefined || count[n] > count[b] || (count[n] === count[b] && n < b)) best.set(key, n);
      }
      kept = kept.filter((n) => best.get(this.keyIdOf.data[n]) === n);
    }
    const userId = filter.userId !== undefined ? this.store.users.find(filter.userId) : undefined;
    const agentId = filter.agentId !== undefined ? this.store.agents.find(filter.agentId) : undefined;
    const minPart = filter.minSupport ?? this.o.minSupport;
    let scored: Array<{ node: number; score: number; id: string }> = [];
    for (const n of kept) {
      const rate = this.successRate(n);
      if (rate < minSuccess) continue;
      scored.push({ node: n, score: count[n] * rate, id: this.nodeId[n] as string });
    }
    if (filter.userId !== undefined || filter.agentId !== undefined) {
      // Per-user counts are detailed statistics: only the patterns that pass are tracked.
      this.track(scored.map((x) => x.node));
      scored = scored.filter((x) => {
        const st = this.patternStats[x.node] as PatternStats;
        if (filter.userId !== undefined && (userId === undefined || (st.users.counts.get(userId) ?? 0) < minPart)) return false;
        if (filter.agentId !== undefined && (agentId === undefined || (st.agents.counts.get(agentId) ?? 0) < minPart)) return false;
        return true;
      });
    }
    scored.sort((a, b) => b.score - a.score || count[b.node] - count[a.node] || (a.id < b.id ? -1 : 1));
    const top = filter.limit !== undefined ? scored.slice(0, Math.max(0, filter.limit)) : scored;
    const variants = top.map((x) => this.variantNodes(x.node, thr));
    this.track([...top.map((x) => x.node), ...variants.flat()]);
    return top.map((x, i) => this.materialiseCached(x.node, variants[i]));
  }

  /** sessionSuccessRate when some session_end says so, else stepSuccessRate (from the scalars). */
  private successRate(n: number): number {
    const sc = this.scalars.data;
    if (sc[4 * n + 2] > 0) return sc[4 * n + 3] / sc[4 * n + 2];
    return sc[4 * n + 1] > 0 ? sc[4 * n] / sc[4 * n + 1] : 0;
  }

  /**
   * Gives the nodes not tracked yet their detailed statistics from the stored sessions, in
   * session order as live counting would have recorded them; from then on live counting keeps
   * them. One pass builds the tool -> sessions index; then the nodes and their prefixes are
   * walked as a tree from the root, each level's occurrences derived from its parent's (the
   * windows after its ends), so shared prefixes are matched once. Every end links to the end it
   * was reached from (a pool, reset per first tool), which gives the leftmost occurrence's
   * positions. Bounded by the listing (`limit`) for the analyzer.
   */
  private track(nodes: number[]): void {
    const todo = new Set(nodes.filter((n) => this.patternStats[n] === undefined && this.nodeId[n] !== undefined));
    if (todo.size === 0) return;
    const need = new Set<number>();
    for (const n of todo) for (let x = n; x > 0 && !need.has(x); x = this.parent.data[x]) need.add(x);
    const postings = this.toolPostings();
    const tools = this.store.runTools.data;
    const offsets = this.store.runOffsets.data;
    const gap = this.o.maxGap;
    const pool = { pos: new Growable(Int32Array, 4096), prev: new Growable(Int32Array, 4096) };
    const walk = (node: number, d: number, occ: TrackedOccurrences): void => {
      if (todo.has(node)) {
        const st = new PatternStats(this.o.topK, d);
        const pos = this.positions;
        for (let i = 0; i < occ.sess.length; i++) {
          let k = d - 1;
          for (let e = occ.link[occ.from[i]]; e >= 0 && k >= 0; e = pool.prev.data[e]) pos[k--] = pool.pos.data[e];
          this.recordDetail(st, d, occ.sess[i], pos);
        }
        this.patternStats[node] = st;
      }
      const m = this.children[node];
      if (!m) return;
      for (const [y, c] of m) {
        if (!need.has(c)) continue;
        const next: TrackedOccurrences = { sess: [], from: [0], ends: [], link: [] };
        for (let i = 0; i < occ.sess.length; i++) {
          const s = occ.sess[i];
          const base = offsets[s];
          const last = offsets[s + 1] - base - 1;
          let had = false;
          let covered = -1;
          for (let p = occ.from[i]; p < occ.from[i + 1]; p++) {
            const from = Math.max(occ.ends[p] + 1, covered + 1);
            const to = Math.min(occ.ends[p] + 1 + gap, last);
            for (let j = from; j <= to; j++) {
              if (tools[base + j] !== y) continue;
              had = true;
              next.ends.push(j);
              pool.pos.push(j);
              next.link.push(pool.prev.push(occ.link[p]));
            }
            if (to > covered) covered = to;
          }
          if (had) {
            next.sess.push(s);
            next.from.push(next.ends.length);
          }
        }
        walk(c, d + 1, next);
      }
    };
    const root = this.children[0] as Map<number, number>;
    for (const [x, c] of root) {
      if (!need.has(c)) continue;
      pool.pos.length = 0;
      pool.prev.length = 0;
      const occ: TrackedOccurrences = { sess: [], from: [0], ends: [], link: [] };
      for (const s of postings.sessions(x)) {
        const base = offsets[s];
        const end = offsets[s + 1];
        for (let j = base; j < end; j++) {
          if (tools[j] !== x) continue;
          occ.ends.push(j - base);
          pool.pos.push(j - base);
          occ.link.push(pool.prev.push(-1));
        }
        occ.sess.push(s);
        occ.from.push(occ.ends.length);
      }
      walk(c, 1, occ);
    }
  }

  private materialiseCached(node: number, variants: number[]): MinedPattern {
    const st = this.patternStats[node] as PatternStats;
    const sig = `${this.count.data[node]}|${st.version}|${variants.join(',')}`;
    const hit = this.materialised.get(node);
    if (hit && hit.sig === sig) return hit.pattern;
    const pattern = this.materialise(node, variants);
    this.materialised.set(node, { sig, pattern });
    return pattern;
  }

  /** A tracked pattern by id (listed or not), with its order variants. */
  pattern(id: string): MinedPattern | undefined {
    const node = this.byId.get(id);
    if (node === undefined) return undefined;
    const variants = this.variantNodes(node, this.countingThreshold());
    this.track([node, ...variants]);
    return this.materialise(node, variants);
  }

  /** The kept occurrences of a pattern, and of its order variants unless withVariants is false; oldest first. */
  occurrences(id: string, opts: { withVariants?: boolean } = {}): PatternOccurrence[] {
    const node = this.byId.get(id);
    if (node === undefined) return [];
    const nodes = [node, ...(opts.withVariants === false ? [] : this.variantNodes(node, this.countingThreshold()))];
    this.track(nodes);
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
        // A run (a loop of one tool) is represented by its first call, as a retried step is.
        const first = this.store.runFirst.data;
        const off = this.store.runOffset(session);
        out.push({ sessionId: this.store.sessionIds[session], patternId: pid, steps: positions.map((p) => payload[first[off + p]]) });
      }
    }
    return out;
  }

  /** Run positions of the leftmost occurrence of a tool path in a stored session (the one statistics used). */
  private leftmostOccurrence(path: number[], session: number): number[] | undefined {
    if (!this.embed(path, this.store.runsOf(session))) return undefined;
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

  private variantNodes(node: number, thr: number): number[] {
    const key = multisetKey(this.toolPath(node));
    return (this.variantsByKey.get(key) ?? []).filter((n) => n !== node && this.count.data[n] >= thr);
  }

  /**
   * Tools usually called after `called`: the longest suffix of it that is a tracked pattern
   * (the context), and that pattern's one-step extensions with their support. An extension may
   * follow after up to maxGap other calls.
   */
  nextToolCounts(called: string[]): { context: string[]; contextSupport: number; next: { tool: string; support: number }[] } {
    // Patterns are counted over runs: a repeated call is one step.
    called = called.filter((t, i) => i === 0 || t !== called[i - 1]);
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
    const sc = this.scalars.data;
    const [okSteps, steps, endedSessions, endedOk] = [sc[4 * node], sc[4 * node + 1], sc[4 * node + 2], sc[4 * node + 3]];
    const stepSuccessRate = steps > 0 ? okSteps / steps : 0;
    const sessionSuccessRate = endedSessions > 0 ? endedOk / endedSessions : undefined;
    const successRate = this.successRate(node);
    const confidence = sessionSuccessRate !== undefined ? wilsonLowerBound(endedOk, endedSessions) : wilsonLowerBound(okSteps, steps);
    const seen = st.durations.count;
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
      endedSessions,
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
      stepRepeats: st.repeatSum.map((sum, k) => ({ mean: seen > 0 ? sum / seen : 1, max: st.repeatMax[k] })),
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
      scalars: this.scalars.toArray(),
      candidates: Array.from({ length: this.parent.length }, (_, i) => (this.candHead.data[i] >= 0 ? this.candidateSessions(i) : undefined)),
      stats: this.patternStats,
      between: { a: this.betA.toArray(), b: this.betB.toArray() },
      growth: {
        fullAt: this.growth.fullAt,
        seeds: [...this.growth.seeds].sort((a, b) => a - b),
        grown: this.growth.grown,
        skippedSeeds: this.growth.skippedSeeds,
        preceded: [...this.growth.preceded].sort((a, b) => a - b),
      },
    };
    return encodeSnapshot(state);
  }

  /**
   * Restores a counter from toSnapshot(). A snapshot of an older format (patterns counted
   * before runs were one step) keeps its sessions and has its trie recounted from them;
   * `rebuiltFromFormat` then names the old format, for the caller to log.
   */
  static fromSnapshot(buf: Buffer): PatternCounter {
    const s = decodeSnapshot(buf);
    const c = new PatternCounter({ ...s.options, ...(s.tenantId !== undefined ? { tenantId: s.tenantId } : {}) });
    c.store = s.store;
    if (s.legacy) {
      c.rebuiltFromFormat = s.legacy;
      c.counters.clippedSessions = s.counters.clippedSessions;
      for (let i = 0; i < c.store.sessionCount; i++) c.countStored(i);
      c.flushPromotions();
      return c;
    }
    c.counters = { ...s.counters };
    c.counted = c.store.sessionCount;
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
    c.groupMark = new Growable(Int32Array, 16);
    c.betA = new Growable(Int32Array, 16);
    c.betB = new Growable(Int32Array, 16);
    c.keyIdOf = new Growable(Int32Array, 16);
    c.scalars = new Growable(Int32Array, 64);
    c.children = [];
    c.patternStats = [];
    c.nodeId = [];
    for (let i = 0; i < n; i++) {
      c.newNode(s.trie.parent[i], s.trie.tool[i], s.trie.depth[i]);
      c.count.data[i] = s.trie.count[i];
      c.state.data[i] = s.trie.state[i];
      c.betA.data[i] = s.between.a[i];
      for (let k = 0; k < 4; k++) c.scalars.data[4 * i + k] = s.scalars[4 * i + k];
      c.betB.data[i] = s.between.b[i];
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
    c.growth = { fullAt: s.growth.fullAt, seeds: new Set(s.growth.seeds), grown: s.growth.grown, skippedSeeds: s.growth.skippedSeeds, preceded: new Set(s.growth.preceded ?? []) };
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

/** True when tool x is in t[from, to). */
function occursIn(t: Int32Array, from: number, to: number, x: number): boolean {
  for (let k = from; k < to; k++) if (t[k] === x) return true;
  return false;
}

/**
 * The occurrences of a pattern in the stored sessions, flat (no object per session): session
 * sess[i] has the ends from[i] .. from[i + 1] - 1 (run positions, ascending) and for each end
 * the successful steps and the start of the occurrence it closes (the first end reaching a
 * position is its predecessor, as in the trie; a session's first end closes its leftmost
 * occurrence).
 */
interface Occurrences {
  sess: number[];
  from: number[];
  ends: number[];
  ok: number[];
  start: number[];
  /** The empty pattern: every position extends it. */
  root?: boolean;
}

/** Occurrences as `track` walks them: per end, the pool entry linking it to the end it was reached from. */
interface TrackedOccurrences {
  sess: number[];
  from: number[];
  ends: number[];
  link: number[];
}

/**
 * Reused counting arrays of growth, indexed by tool id (no Map per pattern): distinct sessions
 * per tool, and per tool up to maxGap tools first seen between it and the pattern, with the
 * sessions they were between in.
 */
class GrowScratch {
  readonly count: Int32Array;
  private readonly mark: Int32Array;
  readonly touched: number[] = [];
  private readonly betTool: Int32Array;
  private readonly betCount: Int32Array;
  private m = 0;

  constructor(
    tools: number,
    private readonly slots: number,
  ) {
    this.count = new Int32Array(tools);
    this.mark = new Int32Array(tools);
    this.betTool = new Int32Array(Math.max(1, tools * slots)).fill(-1);
    this.betCount = new Int32Array(Math.max(1, tools * slots));
  }

  begin(): void {
    for (const y of this.touched) {
      this.count[y] = 0;
      for (let k = 0; k < this.slots; k++) {
        this.betTool[y * this.slots + k] = -1;
        this.betCount[y * this.slots + k] = 0;
      }
    }
    this.touched.length = 0;
  }

  nextMark(): number {
    return ++this.m;
  }

  /** Counts tool y once per mark (session); false when already counted for it. */
  seen(y: number, mark: number): boolean {
    if (this.mark[y] === mark) return false;
    this.mark[y] = mark;
    if (this.count[y]++ === 0) this.touched.push(y);
    return true;
  }

  /** The tools in t[from, to) before y, in this session: the first ones seen fill the slots, the slots count sessions. */
  between(y: number, t: Int32Array, from: number, to: number): void {
    const base = y * this.slots;
    for (let k = from; k < to; k++) {
      const x = t[k];
      let dup = false;
      for (let i = from; i < k && !dup; i++) dup = t[i] === x;
      if (dup) continue;
      for (let i = 0; i < this.slots; i++) {
        const at = this.betTool[base + i];
        if (at === x) {
          this.betCount[base + i]++;
          break;
        }
        if (at === -1) {
          this.betTool[base + i] = x;
          this.betCount[base + i] = 1;
          break;
        }
      }
    }
  }

  /** Sessions of the most frequent tool between y and the pattern. */
  absorbedBy(y: number): number {
    let best = 0;
    for (let i = 0; i < this.slots; i++) if (this.betCount[y * this.slots + i] > best) best = this.betCount[y * this.slots + i];
    return best;
  }

  /** The largest count (precededAlways uses count as "sessions with this tool before"). */
  best(): number {
    let b = 0;
    for (const y of this.touched) if (this.count[y] > b) b = this.count[y];
    return b;
  }
}
