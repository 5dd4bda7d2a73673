/**
 * Bounded "top-K" counts. Up to 2K keys are counted exactly; when a new key would exceed that,
 * the map is cut back to its K largest and later new keys start from the largest count cut
 * (as in space-saving), so heavy hitters are kept, a kept count is never under-estimated, and
 * the cost is O(log K) per add amortised (free-text intents make most keys new).
 */
export class TopK {
  readonly counts = new Map<number, number>();
  /** Largest count dropped so far: a key seen again after a cut may have had up to this many. */
  floor = 0;

  constructor(readonly k: number) {}

  add(key: number): void {
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + 1);
      return;
    }
    if (this.counts.size >= 2 * this.k) this.cut();
    this.counts.set(key, this.floor + 1);
  }

  private cut(): void {
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (let i = this.k; i < sorted.length; i++) {
      if (sorted[i][1] > this.floor) this.floor = sorted[i][1];
      this.counts.delete(sorted[i][0]);
    }
  }

  /** Keys with counts, largest first. */
  top(limit = this.k): Array<[number, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, limit);
  }

  toJSON(): number[] {
    const out: number[] = [this.floor];
    for (const [k, c] of this.counts) out.push(k, c);
    return out;
  }

  static fromJSON(k: number, data: number[]): TopK {
    const t = new TopK(k);
    t.floor = data[0] ?? 0;
    for (let i = 1; i + 1 < data.length; i += 2) t.counts.set(data[i], data[i + 1]);
    return t;
  }
}
