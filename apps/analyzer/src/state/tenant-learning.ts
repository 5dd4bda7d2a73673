import { PatternCounter, SessionAssembler, type ClosedSession, type MiningEvent, type MiningOptions, type OpenSessionState } from '@toolpath/mining';
import { LearningStats } from '../stats/learning-stats';
import type { BlobRef } from './blob-store';

/** Far enough in the future that every open session counts as idle. */
export const CLOSE_ALL = Number.MAX_SAFE_INTEGER;

export interface LearningOptions {
  mining: MiningOptions;
  maxStepsPerSession: number;
}

/** Where a tenant's state stands in the store; a write succeeds only against the version it read. */
export interface PersistedMeta {
  version: number;
  promotedRev: number;
  snapshot: BlobRef | null;
  journal: BlobRef[];
  open: BlobRef | null;
}

/**
 * Everything learned for one tenant, in memory: open sessions, pattern counts, statistics and the
 * stream watermark (the highest stream sequence already counted; anything at or below it that is
 * delivered again is skipped).
 */
export class TenantLearning {
  /** Changes on every mutation, so derived views (pattern list, suggestion index) know they are stale. */
  revision = 0;
  /** Closed sessions counted since the last persist: the next journal entry. */
  unpersisted: ClosedSession[] = [];
  promoted = new Map<string, string>();
  lastFullRunId: string | null = null;

  constructor(
    readonly tenantId: string,
    public assembler: SessionAssembler,
    public counter: PatternCounter,
    public stats: LearningStats,
    public watermark: number,
    /** Wall-clock ms of the last event received for this tenant (the quiet-tenant rule). */
    public lastArrivalAt: number,
    /** Highest event time seen: sessions idle by this clock close even while the tenant is busy. */
    public maxEventTime: number,
    public meta: PersistedMeta,
  ) {}

  static fresh(tenantId: string, opts: LearningOptions): TenantLearning {
    return new TenantLearning(tenantId, newAssembler(opts), new PatternCounter({ ...opts.mining, tenantId }), new LearningStats(), 0, 0, 0, { version: 0, promotedRev: 0, snapshot: null, journal: [], open: null });
  }

  /**
   * Adds events in stream order; returns how many were at or below the watermark (skipped). A full
   * rebuild reads the store in time order, not stream order, and passes `checkWatermark` false.
   */
  addEvents(events: MiningEvent[], arrivedAt: number, checkWatermark = true): { added: number; alreadyCounted: number; invalid: number } {
    let added = 0;
    let alreadyCounted = 0;
    let invalid = 0;
    for (const e of events) {
      if (checkWatermark && e.streamSeq !== 0 && e.streamSeq <= this.watermark) {
        alreadyCounted++;
        continue;
      }
      try {
        this.assembler.add(e);
      } catch {
        // The contract's validation already passed; whatever the assembler still refuses is skipped and counted.
        invalid++;
        continue;
      }
      // The assembler measures idleness from the end of a call: keep the same clock.
      const end = e.startedAt + Math.max(0, e.durationMs);
      if (end > this.maxEventTime && Number.isFinite(end)) this.maxEventTime = end;
      if (checkWatermark && e.streamSeq > this.watermark) this.watermark = e.streamSeq;
      added++;
    }
    if (added > 0) {
      this.lastArrivalAt = Math.max(this.lastArrivalAt, arrivedAt);
      this.revision++;
    }
    return { added, alreadyCounted, invalid };
  }

  /** Closes the sessions that are over at `nowMs` and counts them; returns how many closed. */
  closeSessions(nowMs: number = this.maxEventTime): number {
    const closed = this.assembler.takeClosed(nowMs);
    for (const s of closed) this.countSession(s);
    this.unpersisted.push(...closed);
    if (closed.length > 0) this.revision++;
    return closed.length;
  }

  /** Replays a journaled session (loading): counted, not journaled again. */
  countSession(s: ClosedSession): void {
    this.counter.addSession(s);
    this.stats.addSession(s);
  }

  openSessionCount(): number {
    return this.assembler.openCount;
  }
}

export function newAssembler(opts: LearningOptions, state?: OpenSessionState[]): SessionAssembler {
  const o = { sessionIdleMs: opts.mining.sessionIdleMs, maxStepsPerSession: opts.maxStepsPerSession };
  return state ? SessionAssembler.restore(o, state) : new SessionAssembler(o);
}
