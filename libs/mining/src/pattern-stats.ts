import { DurationSketch } from './duration-sketch';
import type { SessionStep } from './mining-types';
import { TopK } from './top-k';

/** One kept occurrence: the session, the matched step positions, and that session's payload. */
export interface KeptExample {
  session: number;
  positions: number[];
  steps: SessionStep[];
}

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
  /** Ring of the most recent examples; `next` is where the next one goes once full. */
  examples: KeptExample[] = [];
  next = 0;

  constructor(topK: number) {
    this.intents = new TopK(topK);
    this.users = new TopK(topK);
    this.agents = new TopK(topK);
  }

  addExample(e: KeptExample, max: number): void {
    if (max <= 0) return;
    if (this.examples.length < max) {
      this.examples.push(e);
      return;
    }
    this.examples[this.next] = e;
    this.next = (this.next + 1) % max;
  }

  /** Examples oldest first. */
  orderedExamples(): KeptExample[] {
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
      this.orderedExamples().map((e) => [e.session, ...e.positions]),
    ];
  }

  static fromJSON(a: unknown[], topK: number, payloadOf: (session: number) => SessionStep[] | undefined): PatternStats {
    const s = new PatternStats(topK);
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
    for (const [session, ...positions] of a[11] as number[][]) {
      const steps = payloadOf(session);
      if (steps) s.examples.push({ session, positions, steps });
    }
    return s;
  }
}
