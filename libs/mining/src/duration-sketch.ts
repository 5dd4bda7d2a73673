/**
 * Log-spaced buckets of durations (ms): bucket 0 holds zero (and invalid) durations, bucket i ≥ 1
 * holds (γ^(i-2), γ^(i-1)] - 1 ms. A value stands for the middle of its bucket, so the relative
 * error is at most (γ - 1) / 2. The resolution is a parameter because callers that keep hundreds
 * of sketches (the process map's per-key and per-period graphs) want coarser buckets than one
 * pattern's duration figures.
 */
export class LogResolution {
  private readonly logGamma: number;

  constructor(readonly gamma: number) {
    if (!(gamma > 1) || !Number.isFinite(gamma)) throw new RangeError(`LogResolution: gamma must be a number above 1, got ${String(gamma)}`);
    this.logGamma = Math.log(gamma);
  }

  bucketOf(ms: number): number {
    // `| 0`: a small-integer key; a double key makes every Map operation hash (and allocate) a heap number.
    return ms <= 0 || !Number.isFinite(ms) ? 0 : (1 + Math.max(0, Math.ceil(Math.log(ms + 1) / this.logGamma))) | 0;
  }

  /** The value a bucket stands for: the middle of its range. */
  valueOf(bucket: number): number {
    return bucket === 0 ? 0 : Math.max(0, (Math.pow(this.gamma, bucket - 1) + Math.pow(this.gamma, bucket - 2)) / 2 - 1);
  }
}

/** About 2 % relative error: pattern durations, a tenant's whole process map. */
export const FINE_RESOLUTION = new LogResolution(1.04);
/** About 10 % relative error: aggregates kept by the hundred (time buckets, per user/agent/intent). */
export const COARSE_RESOLUTION = new LogResolution(1.2);

/**
 * Quantiles of durations in bounded memory: one counter per bucket in use, at most a few hundred
 * for anything between 1 ms and a year. The sketch stores bucket indexes only; its resolution is
 * the caller's (FINE_RESOLUTION unless said otherwise), so two sketches merge when they share it,
 * and a caller adding one value to several sketches computes its bucket once (`addBucket`).
 */
export class DurationSketch {
  /** bucket index -> count */
  readonly buckets = new Map<number, number>();
  count = 0;

  add(ms: number, times = 1, resolution: LogResolution = FINE_RESOLUTION): void {
    this.addBucket(resolution.bucketOf(ms), times);
  }

  addBucket(bucket: number, times = 1): void {
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + times);
    this.count += times;
  }

  merge(other: DurationSketch): void {
    for (const [b, c] of other.buckets) this.addBucket(b, c);
  }

  /** The q-quantile (nearest rank), as the middle of its bucket; 0 when empty. */
  quantile(q: number, resolution: LogResolution = FINE_RESOLUTION): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.buckets.get(k) as number;
      if (seen >= rank) return resolution.valueOf(k);
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
    for (let i = 0; i + 1 < pairs.length; i += 2) s.addBucket(pairs[i], pairs[i + 1]);
    return s;
  }
}
