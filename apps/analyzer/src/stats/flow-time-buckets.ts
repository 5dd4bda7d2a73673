import { FlowAggregate, type FlowAggregateJson, type SessionFlow } from './flow-aggregate';
import { COARSE_RESOLUTION as COARSE } from '@toolpath/mining';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Edges kept per time bucket. */
export const MAX_EDGES_PER_BUCKET = 2000;

export type Grain = 'h' | 'd' | 'm' | 'y';
const ORDER: Record<Grain, number> = { h: 0, d: 1, m: 2, y: 3 };

interface Bucket {
  grain: Grain;
  start: number;
  end: number;
  agg: FlowAggregate;
}

export type TimeBucketsJson = { newest: number | null; b: Array<[Grain, number, FlowAggregateJson]> };

/**
 * Process-map aggregates per period of session start time, coarser with age so their number stays
 * bounded whatever the span of the log: hours from the start of the day before the newest session
 * (24–48 of them), days for the two calendar months before that (≤ 92), months for the two calendar
 * years before that (≤ 36), years before (one per year of data). All UTC. When the newest session
 * moves on, finer buckets that fell behind a horizon are merged into their coarser bucket; the
 * horizons sit on coarser boundaries, so buckets never overlap.
 */
export class FlowTimeBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private newest = Number.NEGATIVE_INFINITY;
  private horizons = { d: Number.NEGATIVE_INFINITY, m: Number.NEGATIVE_INFINITY, y: Number.NEGATIVE_INFINITY };

  add(startedAt: number, f: SessionFlow): void {
    if (!Number.isFinite(startedAt)) return;
    if (startedAt > this.newest) this.advance(startedAt);
    this.bucketFor(this.grainOf(startedAt), startedAt).agg.add(f, f.coarse);
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * The buckets that overlap [from, to) merged, and the span they cover (bucket-aligned, so it may
   * be wider than asked). `exact` when every bucket used lies inside [from, to).
   */
  query(from: number, to: number): { agg: FlowAggregate; from: number; to: number; exact: boolean } {
    const agg = new FlowAggregate(COARSE, Number.MAX_SAFE_INTEGER);
    let lo = from;
    let hi = to;
    let exact = true;
    for (const b of this.buckets.values()) {
      if (b.start >= to || b.end <= from) continue;
      agg.merge(b.agg);
      if (b.start < from || b.end > to) exact = false;
      lo = Math.min(lo, b.start);
      hi = Math.max(hi, b.end);
    }
    return { agg, from: lo, to: hi, exact };
  }

  toJSON(): TimeBucketsJson {
    return { newest: Number.isFinite(this.newest) ? this.newest : null, b: [...this.buckets.values()].map((b) => [b.grain, b.start, b.agg.toJSON()]) };
  }

  static fromJSON(j: TimeBucketsJson): FlowTimeBuckets {
    const t = new FlowTimeBuckets();
    if (j.newest !== null && Number.isFinite(j.newest)) t.advance(j.newest);
    for (const [grain, start, agg] of j.b) {
      const b = t.bucketFor(grain, start);
      b.agg.merge(FlowAggregate.fromJSON(agg, COARSE, MAX_EDGES_PER_BUCKET));
    }
    return t;
  }

  private grainOf(t: number): Grain {
    if (t >= this.horizons.d) return 'h';
    if (t >= this.horizons.m) return 'd';
    if (t >= this.horizons.y) return 'm';
    return 'y';
  }

  private advance(newest: number): void {
    this.newest = newest;
    const day = Math.floor(newest / DAY) * DAY;
    const now = new Date(newest);
    const next = {
      d: day - DAY,
      m: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1),
      y: Date.UTC(now.getUTCFullYear() - 2, 0, 1),
    };
    if (next.d === this.horizons.d && next.m === this.horizons.m && next.y === this.horizons.y) return;
    this.horizons = next;
    // Roll what fell behind a horizon into its coarser bucket.
    for (const [key, b] of [...this.buckets]) {
      const grain = this.grainOf(b.start);
      if (ORDER[grain] <= ORDER[b.grain]) continue;
      this.buckets.delete(key);
      this.bucketFor(grain, b.start).agg.merge(b.agg);
    }
  }

  /** The bucket of `grain` containing time t (created when missing). */
  private bucketFor(grain: Grain, t: number): Bucket {
    const [start, end] = span(grain, t);
    const key = `${grain}${start}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { grain, start, end, agg: new FlowAggregate(COARSE, MAX_EDGES_PER_BUCKET) }));
    return b;
  }
}

function span(grain: Grain, t: number): [number, number] {
  if (grain === 'h') {
    const s = Math.floor(t / HOUR) * HOUR;
    return [s, s + HOUR];
  }
  if (grain === 'd') {
    const s = Math.floor(t / DAY) * DAY;
    return [s, s + DAY];
  }
  const d = new Date(t);
  if (grain === 'm') return [Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)];
  return [Date.UTC(d.getUTCFullYear(), 0, 1), Date.UTC(d.getUTCFullYear() + 1, 0, 1)];
}
