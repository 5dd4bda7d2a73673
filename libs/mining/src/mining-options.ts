export interface MiningOptions {
  /** Shortest pattern listed (default 3). */
  minSteps: number;
  /**
   * Longest sequence counted for every session as it arrives (default 8). Longer patterns are
   * grown from the frequent ones of this length (see maxPatternSteps).
   */
  maxSteps: number;
  /**
   * Longest pattern learned (default 64, at most 255): frequent patterns of maxSteps steps are
   * grown step by step over the stored sessions, closed extensions only (README: long patterns).
   * Equal to maxSteps: no growth.
   */
  maxPatternSteps: number;
  /** Growth starts from patterns in at least this share of the sessions (default 0.01). */
  growMinShare: number;
  /**
   * Growth: an extension is not grown when, in all but this share of its sessions, another tool
   * sits between it and the pattern (the longer pattern through that tool says the same), and a
   * start is not grown when a tool precedes it that often (default 0.1).
   */
  growthTolerance: number;
  /**
   * Growth: an extension is grown only when at least this share of the pattern's sessions take
   * it (default 0.1): a branch of the procedure, not an unrelated call that recurs by chance.
   */
  growMinBranchShare: number;
  /** Patterns longer than maxSteps kept at most (each costs about 2 KB; default 20,000). */
  maxGrownPatterns: number;
  /** Unrelated calls allowed between two consecutive pattern steps (default 2). */
  maxGap: number;
  /** Absolute minimum support in distinct sessions (default 3). */
  minSupport: number;
  /**
   * Relative minimum support: a prefix is extended once it reaches
   * max(minSupport, ceil(minSupportRatio × sessionsSeen)) sessions (default 0.002). Keeps the
   * count of tracked patterns bounded on big tenants where any pair of tools recurs 3 times.
   */
  minSupportRatio: number;
  /** Default success-rate filter of listings (default 0). */
  minSuccessRate: number;
  /** A session without session_end closes after this idle time (default 300,000). */
  sessionIdleMs: number;
  /** Occurrences kept per pattern for inference/examples (default 20). */
  examplesPerPattern: number;
  /** Steps of a session that are mined; later ones are dropped and counted (default 10,000). */
  maxSessionSteps: number;
  /** Counting visits allowed per session; beyond, deeper extensions of that session are skipped (default 2,000,000). */
  maxWorkPerSession: number;
  /** Recent sessions whose step payloads stay available for examples of patterns found later (default 2,000). */
  payloadWindowSessions: number;
  /**
   * Listing: a pattern is not listed when longer listed patterns containing it (one order, or
   * its order variants together) cover at least support / (1 + closedTolerance) of its sessions.
   * 0 (default) = closed patterns only.
   */
  closedTolerance: number;
  /** Bounded top-K kept for intents, users and agents per pattern (default 16). */
  topK: number;
}

export const DEFAULT_MINING_OPTIONS: MiningOptions = Object.freeze({
  minSteps: 3,
  maxSteps: 8,
  maxPatternSteps: 64,
  growMinShare: 0.01,
  growthTolerance: 0.1,
  growMinBranchShare: 0.1,
  maxGrownPatterns: 20_000,
  maxGap: 2,
  minSupport: 3,
  minSupportRatio: 0.002,
  minSuccessRate: 0,
  sessionIdleMs: 300_000,
  examplesPerPattern: 20,
  maxSessionSteps: 10_000,
  maxWorkPerSession: 2_000_000,
  payloadWindowSessions: 2_000,
  closedTolerance: 0,
  topK: 16,
});

/** Fills defaults and refuses values that would make counting unbounded, naming the option. */
export function resolveMiningOptions(partial: Partial<MiningOptions> = {}): MiningOptions {
  const o: MiningOptions = { ...DEFAULT_MINING_OPTIONS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  const int = (name: keyof MiningOptions, min: number, max: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`mining option ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
    }
  };
  const num = (name: keyof MiningOptions, min: number, max: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`mining option ${name} must be a number in [${min}, ${max}], got ${String(v)}`);
    }
  };
  int('minSteps', 1, 32);
  int('maxSteps', 1, 32);
  if (o.maxSteps < o.minSteps) throw new RangeError(`mining option maxSteps (${o.maxSteps}) must be at least minSteps (${o.minSteps})`);
  int('maxPatternSteps', 1, 255);
  if (o.maxPatternSteps < o.maxSteps) o.maxPatternSteps = o.maxSteps;
  num('growMinShare', 0, 1);
  num('growthTolerance', 0, 0.5);
  num('growMinBranchShare', 0, 1);
  int('maxGrownPatterns', 0, 10_000_000);
  int('maxGap', 0, 16);
  int('minSupport', 1, 1_000_000_000);
  num('minSupportRatio', 0, 1);
  num('minSuccessRate', 0, 1);
  int('sessionIdleMs', 1, 365 * 86_400_000);
  int('examplesPerPattern', 0, 1000);
  int('maxSessionSteps', 1, 1_000_000);
  int('maxWorkPerSession', 1, 1_000_000_000);
  int('payloadWindowSessions', 0, 1_000_000);
  num('closedTolerance', 0, 10);
  int('topK', 1, 1000);
  return o;
}
