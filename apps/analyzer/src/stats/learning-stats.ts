import type { LearningTally } from '@toolpath/contracts';
import type { ClosedSession } from '@toolpath/mining';
import { FlowStats, type FlowStatsJson } from './flow-stats';

const HOUR_MS = 3600_000;
/** Hourly buckets kept (by session end time): enough for "the last 24 h" with a day to spare. */
const HOURS_KEPT = 48;
/** Distinct intents counted per tenant; later ones are counted under OTHER_INTENT. */
export const MAX_INTENTS = 10_000;
export const OTHER_INTENT = '(other)';
const MAX_INTENT_LENGTH = 200;

interface Acc {
  ok: number;
  bad: number;
  durationSum: number;
}

export interface LearningStatsState {
  sessions: Acc;
  events: number;
  intents: Array<[string, Acc]>;
  hours: Array<[number, Acc]>;
  /** The process map (absent in state written before it existed). */
  flow?: FlowStatsJson;
}

/** The text an intent is counted and matched under: trimmed, spaces collapsed, lower case, bounded. */
export function normaliseIntent(intent: string): string {
  return intent.trim().replace(/\s+/g, ' ').toLowerCase().slice(0, MAX_INTENT_LENGTH);
}

/** A session succeeded when its session_end says so, or (without one) when every step did. */
export function sessionSucceeded(s: ClosedSession): boolean {
  return s.success ?? s.steps.every((step) => step.success);
}

/**
 * Per-tenant counts over closed sessions: totals, per intent, and per hour for "last 24 h".
 * Fed by the same closed sessions as the pattern counter, so replaying the journal rebuilds both.
 */
export class LearningStats {
  private sessions: Acc = { ok: 0, bad: 0, durationSum: 0 };
  private events = 0;
  private readonly intents = new Map<string, Acc>();
  private readonly hours = new Map<number, Acc>();
  /** The process map: directly-follows graph and variants, maintained as sessions close. */
  flow = new FlowStats();

  addSession(s: ClosedSession): void {
    const ok = sessionSucceeded(s);
    const duration = Math.max(0, s.endedAt - s.startedAt);
    add(this.sessions, ok, duration);
    this.events += s.steps.length;
    const intent = s.intent ? normaliseIntent(s.intent) : '';
    if (intent.length > 0) {
      const key = !this.intents.has(intent) && this.intents.size >= MAX_INTENTS ? OTHER_INTENT : intent;
      add(acc(this.intents, key), ok, duration);
    }
    this.flow.add(s, ok, intent || undefined);
    const hour = Math.floor(s.endedAt / HOUR_MS);
    add(acc(this.hours, hour), ok, duration);
    if (this.hours.size > HOURS_KEPT) {
      const newest = Math.max(...this.hours.keys());
      for (const h of this.hours.keys()) if (h <= newest - HOURS_KEPT) this.hours.delete(h);
    }
  }

  totals(): LearningTally & { sessions: number; events: number; intents: number } {
    return { ...tally(this.sessions), sessions: this.sessions.ok + this.sessions.bad, events: this.events, intents: this.intents.size };
  }

  /** Sessions that ended in the 24 hours before `nowMs` (by their own timestamps). */
  last24h(nowMs: number): LearningTally & { sessions: number } {
    const sum: Acc = { ok: 0, bad: 0, durationSum: 0 };
    const from = nowMs - 24 * HOUR_MS;
    for (const [hour, a] of this.hours) {
      if ((hour + 1) * HOUR_MS > from && hour * HOUR_MS <= nowMs) {
        sum.ok += a.ok;
        sum.bad += a.bad;
        sum.durationSum += a.durationSum;
      }
    }
    return { ...tally(sum), sessions: sum.ok + sum.bad };
  }

  intentTallies(): Array<LearningTally & { intent: string }> {
    return [...this.intents].map(([intent, a]) => ({ intent, ...tally(a) }));
  }

  toState(): LearningStatsState {
    return { sessions: { ...this.sessions }, events: this.events, intents: [...this.intents], hours: [...this.hours], flow: this.flow.toJSON() };
  }

  static fromState(state: LearningStatsState | undefined): LearningStats {
    const s = new LearningStats();
    if (!state) return s;
    s.sessions = { ...state.sessions };
    s.events = state.events;
    for (const [k, v] of state.intents) s.intents.set(k, { ...v });
    for (const [k, v] of state.hours) s.hours.set(k, { ...v });
    s.flow = FlowStats.fromJSON(state.flow, s.sessions.ok + s.sessions.bad);
    return s;
  }
}

function add(a: Acc, ok: boolean, duration: number): void {
  if (ok) a.ok++;
  else a.bad++;
  a.durationSum += duration;
}

function acc<K>(map: Map<K, Acc>, key: K): Acc {
  let a = map.get(key);
  if (!a) map.set(key, (a = { ok: 0, bad: 0, durationSum: 0 }));
  return a;
}

export function tally(a: Acc): LearningTally {
  const total = a.ok + a.bad;
  return {
    total,
    successful: a.ok,
    failed: a.bad,
    successRate: total > 0 ? a.ok / total : null,
    meanDurationMs: total > 0 ? a.durationSum / total : null,
  };
}
