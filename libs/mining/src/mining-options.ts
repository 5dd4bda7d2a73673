export interface MiningOptions {
  /** Shortest pattern listed (default 3). */
  minSteps: number;
  /** Longest sequence counted (default 8). */
  maxSteps: number;
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
