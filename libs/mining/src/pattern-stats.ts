import { DurationSketch } from './duration-sketch';
import { TopK } from './top-k';

/** Statistics of one tracked (frequent) pattern, over the leftmost occurrence in each supporting session. */
export class PatternStats {
  okSteps = 0;
  steps = 0;
  endedSessions = 0;
  endedOk = 0;
  durationSum = 0;
  readonly durations = new DurationSketch();
  intents: TopK;
  users: TopK;
  agents: TopK;
  firstSeenAt = Infinity;
  lastSeenAt = -Infinity;
  /** Ring of the sessions of the most recent examples; `next` is where the next one goes once full. */
  examples: number[] = [];
  next = 0;
  /** Per pattern step: calls in the matched run (a loop of one tool is one step), summed and at most. */
  repeatSum: number[];
  repeatMax: number[];
  /** Bumped by every recorded occurrence (lets listings reuse a materialised pattern). */
  version = 0;

  constructor(topK: number, steps = 0) {
    this.repeatSum = new Array<number>(steps).fill(0);
    this.repeatMax = new Array<number>(steps).fill(0);
    this.intents = new TopK(topK);
    this.users = new TopK(topK);
    this.agents = new TopK(topK);
  }

  /** Keeps session s as an example; returns the session it replaced (to release its payload), or -1. */
  addExample(s: number, max: number): number {
    if (max <= 0) return -1;
    if (this.examples.length < max) {
      this.examples.push(s);
      return -1;
    }
    const old = this.examples[this.next];
    this.examples[this.next] = s;
    this.next = (this.next + 1) % max;
    return old;
  }

  /** Example sessions oldest first. */
  orderedExamples(): number[] {
    return [...this.examples.slice(this.next), ...this.examples.slice(0, this.next)];
  }

  toJSON(): unknown[] {
    return [
      this.okSteps,
      this.steps,
      this.endedSessions,
      this.endedOk,
      this.durationSum,
      this.durations.toJSON(),
      this.intents.toJSON(),
      this.users.toJSON(),
      this.agents.toJSON(),
      Number.isFinite(this.firstSeenAt) ? this.firstSeenAt : null,
      Number.isFinite(this.lastSeenAt) ? this.lastSeenAt : null,
      this.orderedExamples(),
      this.repeatSum,
      this.repeatMax,
    ];
  }

  /** `steps`: the pattern's length, for statistics written before repeats were kept (all 1). */
  static fromJSON(a: unknown[], topK: number, steps: number): PatternStats {
    const s = new PatternStats(topK, steps);
    s.okSteps = a[0] as number;
    s.steps = a[1] as number;
    s.endedSessions = a[2] as number;
    s.endedOk = a[3] as number;
    s.durationSum = a[4] as number;
    const sketch = DurationSketch.fromJSON(a[5] as number[]);
    for (const [k, v] of sketch.buckets) s.durations.buckets.set(k, v);
    s.durations.count = sketch.count;
    s.intents = TopK.fromJSON(topK, a[6] as number[]);
    s.users = TopK.fromJSON(topK, a[7] as number[]);
    s.agents = TopK.fromJSON(topK, a[8] as number[]);
    s.firstSeenAt = (a[9] as number | null) ?? Infinity;
    s.lastSeenAt = (a[10] as number | null) ?? -Infinity;
    s.examples = (a[11] as number[]).slice();
    if (Array.isArray(a[12]) && Array.isArray(a[13])) {
      s.repeatSum = (a[12] as number[]).slice();
      s.repeatMax = (a[13] as number[]).slice();
    } else {
      const seen = s.durations.count;
      s.repeatSum.fill(seen);
      s.repeatMax.fill(seen > 0 ? 1 : 0);
    }
    return s;
  }
}
