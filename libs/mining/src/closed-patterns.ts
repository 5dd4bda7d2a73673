/**
 * Closedness on the prefix trie without comparing patterns pairwise.
 *
 * A pattern Q is not closed when longer patterns that contain it explain its sessions: a
 * pattern one step longer containing Q, or its order variants together, with support of at
 * least support(Q) / (1 + tolerance) (support = sessions that did not end in failure, see
 * `weight`). Every pattern N of k + 1 steps contains exactly its k + 1
 * one-step deletions; each deletion is found in the trie by walking from N's ancestor at the
 * deleted position (an index lookup per step, no scan). So every listed node sends its support
 * to the at most k + 1 patterns it contains, and Q is compared only with the patterns that
 * contain it: O(Σ k²) Map lookups over the listed nodes, k ≤ maxPatternSteps, instead of
 * comparing every candidate with every longer one.
 *
 * One step is enough: a pattern contained in a much longer one with nearly its support is
 * contained in the patterns between them too, with support at least the longer one's (support
 * only grows when steps are dropped), and those are in the trie whenever they are frequent.
 */

/** What the closure reads of the trie (the counter's arrays; nodes are indexes). */
export interface ClosureSource {
  parent: Int32Array;
  tool: Int32Array;
  depth: Uint8Array;
  count: Int32Array;
  /** Tool id -> child, for nodes that have children. */
  children: ReadonlyArray<Map<number, number> | undefined>;
  /** Order-variant class of a node (same multiset of tools). */
  keyIdOf: Int32Array;
  /**
   * The support closedness compares: the supporting sessions that did not end in failure. A
   * session that failed and stopped midway is a failed attempt at the longer procedure, not
   * another procedure, so a prefix whose extra sessions all failed is not closed.
   */
  weight(n: number): number;
}

/**
 * The nodes of `listed` (all with support ≥ the listing threshold and ≥ minSteps steps) that no
 * longer listed pattern (or its order variants together) explains within `tolerance`.
 * `inListing(n)` says whether a node found by a deletion is itself in the listing universe.
 */
export function closedNodes(src: ClosureSource, listed: readonly number[], tolerance: number, inListing: (n: number) => boolean): number[] {
  const { parent, tool, depth, children, keyIdOf } = src;
  // (target, variant class) -> summed support of the longer patterns containing target, and the best sum per target.
  const sums = new Map<number, number>();
  const best = new Map<number, number>();
  const path: number[] = [];
  const anc: number[] = [];
  const KEY_SPACE = 2 ** 21;
  for (const n of listed) {
    const k = depth[n];
    if (k < 2) continue;
    path.length = k;
    anc.length = k;
    for (let x = n, i = k - 1; i >= 0; i--, x = parent[x]) {
      path[i] = tool[x];
      anc[i] = x;
    }
    const key = keyIdOf[n];
    for (let i = 0; i < k; i++) {
      // Dropping either of two equal neighbours gives the same pattern: count it once.
      if (i > 0 && path[i] === path[i - 1]) continue;
      let node = i === 0 ? 0 : anc[i - 1];
      for (let j = i + 1; j < k && node >= 0; j++) {
        const m = children[node];
        const c = m ? m.get(path[j]) : undefined;
        node = c === undefined ? -1 : c;
      }
      if (node <= 0 || !inListing(node)) continue;
      const slot = node * KEY_SPACE + (key % KEY_SPACE);
      const sum = (sums.get(slot) ?? 0) + src.weight(n);
      sums.set(slot, sum);
      if (sum > (best.get(node) ?? 0)) best.set(node, sum);
    }
  }
  const out: number[] = [];
  for (const n of listed) {
    const b = best.get(n) ?? 0;
    if (b === 0 || src.weight(n) > (1 + tolerance) * b) out.push(n);
  }
  return out;
}

/**
 * The second half of closedness, for the patterns longer than maxSteps: growth keeps only the
 * closed extensions (and skips starts that a tool precedes), so the one-step neighbours of a
 * pattern inside a long procedure may not be in the trie. Every node of `kept` is therefore also
 * compared with the grown nodes (`longer`, a set bounded by maxGrownPatterns) that contain it,
 * found through an index from tool to the grown nodes holding it (the kept node's rarest tool
 * picks the shortest list), then checked as a subsequence: O(|kept| × shortest list × steps).
 * Same rule as closedNodes: dropped when the containing grown nodes of one order-variant class
 * together reach its weight / (1 + tolerance).
 */
export function notContainedInGrown(src: ClosureSource, kept: readonly number[], longer: readonly number[], tolerance: number): number[] {
  if (longer.length === 0) return [...kept];
  const pathOf = (n: number): number[] => {
    const out: number[] = new Array<number>(src.depth[n]);
    for (let x = n, i = out.length - 1; i >= 0; i--, x = src.parent[x]) out[i] = src.tool[x];
    return out;
  };
  const paths = new Map<number, number[]>();
  const postings = new Map<number, number[]>();
  // Heaviest first in every list: a pattern that is explained (most are) is found so after a few
  // candidates, and the scan stops there; only the patterns kept scan their whole list.
  const heaviestFirst = [...longer].sort((a, b) => src.weight(b) - src.weight(a));
  for (const n of heaviestFirst) {
    const p = pathOf(n);
    paths.set(n, p);
    for (const t of new Set(p)) {
      const list = postings.get(t);
      if (list) list.push(n);
      else postings.set(t, [n]);
    }
  }
  const out: number[] = [];
  for (const q of kept) {
    const path = paths.get(q) ?? pathOf(q);
    let shortest: number[] | undefined;
    for (const t of path) {
      const list = postings.get(t) ?? [];
      if (!shortest || list.length < shortest.length) shortest = list;
    }
    const w = src.weight(q);
    const sums = new Map<number, number>();
    let best = 0;
    for (const n of shortest ?? []) {
      const np = paths.get(n) as number[];
      if (np.length <= path.length || !isSubsequence(path, np)) continue;
      const key = src.keyIdOf[n];
      const sum = (sums.get(key) ?? 0) + src.weight(n);
      sums.set(key, sum);
      if (sum > best) best = sum;
      if (w <= (1 + tolerance) * best) break;
    }
    if (best === 0 || w > (1 + tolerance) * best) out.push(q);
  }
  return out;
}

function isSubsequence(short: number[], long: number[]): boolean {
  let i = 0;
  for (let j = 0; j < long.length && i < short.length; j++) if (long[j] === short[i]) i++;
  return i === short.length;
}
