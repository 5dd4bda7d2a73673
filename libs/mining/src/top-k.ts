/**
 * Bounded "top-K" counts (space-saving): at most `k` keys; a new key past the bound takes the
 * place of the smallest one and inherits its count, so heavy hitters are kept and a count is
 * never under-estimated.
 */
export class TopK {
  readonly counts = new Map<number, number>();

  constructor(readonly k: number) {}

  add(key: number): void {
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + 1);
      return;
    }
    if (this.counts.size < this.k) {
      this.counts.set(key, 1);
      return;
    }
    let minKey = -1;
    let min = Infinity;
    for (const [kk, cc] of this.counts) {
      if (cc < min) {
        min = cc;
        minKey = kk;
      }
    }
    this.counts.delete(minKey);
    this.counts.set(key, min + 1);
  }

  /** Keys with counts, largest first. */
  top(limit = this.k): Array<[number, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, limit);
  }

  toJSON(): number[] {
    const out: number[] = [];
    for (const [k, c] of this.counts) out.push(k, c);
    return out;
  }

  static fromJSON(k: number, pairs: number[]): TopK {
    const t = new TopK(k);
    for (let i = 0; i + 1 < pairs.length; i += 2) t.counts.set(pairs[i], pairs[i + 1]);
    return t;
  }
}
