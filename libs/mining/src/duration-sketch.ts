/**
 * Quantiles of durations in bounded memory: log-spaced buckets (relative error about 2%), one
 * counter per bucket in use, at most a few hundred for anything between 1 ms and a year.
 */
const GAMMA = 1.04;
const LOG_GAMMA = Math.log(GAMMA);

export class DurationSketch {
  /** bucket index -> count; index 0 holds zero durations. */
  readonly buckets = new Map<number, number>();
  count = 0;

  add(ms: number, times = 1): void {
    const i = ms <= 0 || !Number.isFinite(ms) ? 0 : 1 + Math.max(0, Math.ceil(Math.log(ms + 1) / LOG_GAMMA));
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + times);
    this.count += times;
  }

  /** The q-quantile (nearest rank), as the middle of its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.buckets.get(k) as number;
      if (seen >= rank) return k === 0 ? 0 : Math.max(0, (Math.pow(GAMMA, k - 1) + Math.pow(GAMMA, k - 2)) / 2 - 1);
    }
    return 0;
  }

  toJSON(): number[] {
    const out: number[] = [];
    for (const [k, c] of this.buckets) out.push(k, c);
    return out;
  }

  static fromJSON(pairs: number[]): DurationSketch {
    const s = new DurationSketch();
    for (let i = 0; i + 1 < pairs.length; i += 2) s.add0(pairs[i], pairs[i + 1]);
    return s;
  }

  private add0(bucket: number, count: number): void {
    this.buckets.set(bucket, count);
    this.count += count;
  }
}
