import { NextStepModel, PatternCounter, SessionAssembler, type ClosedSession, type MiningEvent, type MiningOptions, type OpenSessionState } from '@toolpath/mining';
import { LearningStats } from '../stats/learning-stats';
import type { BlobRef } from './blob-store';

/** Far enough in the future that every open session counts as idle. */
export const CLOSE_ALL = Number.MAX_SAFE_INTEGER;

export interface LearningOptions {
  mining: MiningOptions;
  maxStepsPerSession: number;
  /** An ended session closes once the arrival clock is this far past its session_end's arrival (default 0). */
  sessionEndGraceMs?: number;
}

/** Where a tenant's state stands in the store; a write succeeds only against the version it read. */
export interface PersistedMeta {
  version: number;
  promotedRev: number;
  snapshot: BlobRef | null;
  journal: BlobRef[];
  /** The open sessions' base and the change records written since (applied in order). */
  open: BlobRef | null;
  openChanges: BlobRef[];
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
  /** Immediate successors for next-step prediction (libs/mining next-step-model.ts): fed every counted session, saved with the snapshot. */
  nextSteps = new NextStepModel();
  private droppedSinceTaken = 0;

  constructor(
    readonly tenantId: string,
    public assembler: SessionAssembler,
    public counter: PatternCounter,
    public stats: LearningStats,
    public watermark: number,
    /** Wall-clock ms of the last event received for this tenant (the quiet-tenant rule). */
    public lastArrivalAt: number,
    /**
     * The arrival clock: the latest arrival (JetStream timestamp) of the tenant's events read.
     * Sessions close on it (see SessionAssembler), so the step and batch boundaries of a run
     * never change them, and replays and rebuilds give the sessions live reading gave.
     */
    public arrivalClock: number,
    public meta: PersistedMeta,
  ) {}

  static fresh(tenantId: string, opts: LearningOptions): TenantLearning {
    return new TenantLearning(tenantId, newAssembler(opts), new PatternCounter({ ...opts.mining, tenantId }), new LearningStats(), 0, 0, 0, { version: 0, promotedRev: 0, snapshot: null, journal: [], open: null, openChanges: [] });
  }

  /**
   * Adds events in stream order; returns how many were at or below the watermark (skipped). A full
   * rebuild reads the store in arrival order and passes `checkWatermark` false. `readAt` is the
   * wall-clock time they were read (the quiet-tenant rule); their arrival times are their own.
   */
  addEvents(events: MiningEvent[], readAt: number, checkWatermark = true): { added: number; alreadyCounted: number; invalid: number } {
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
      // The assembler's clock for events without an arrival time is their end: keep the same.
      const arrived = typeof e.arrivedAt === 'number' ? e.arrivedAt : e.startedAt + Math.max(0, e.durationMs);
      if (arrived > this.arrivalClock && Number.isFinite(arrived)) this.arrivalClock = arrived;
      if (checkWatermark && e.streamSeq > this.watermark) this.watermark = e.streamSeq;
      added++;
    }
    if (added > 0) {
      this.lastArrivalAt = Math.max(this.lastArrivalAt, readAt);
      this.revision++;
    }
    return { added, alreadyCounted, invalid };
  }

  /**
   * Closes the sessions that are over at `nowMs` on the arrival clock and counts them; returns how
   * many closed. `nowMs` must not be ahead of an arrival still to be read (default: the latest read).
   */
  closeSessions(nowMs: number = this.arrivalClock): number {
    const closed = this.assembler.takeClosed(nowMs);
    for (const s of closed) {
      this.countSession(s);
      this.droppedSinceTaken += s.droppedSteps ?? 0;
    }
    this.unpersisted.push(...closed);
    if (closed.length > 0) this.revision++;
    return closed.length;
  }

  /** Replays a journaled session (loading): counted, not journaled again. */
  countSession(s: ClosedSession): void {
    this.counter.addSession(s);
    this.nextSteps.addSession(s);
    this.stats.addSession(s);
  }

  /** Calls dropped (beyond maxStepsPerSession) by the sessions closed since the last call; resets. */
  takeDroppedSteps(): number {
    const n = this.droppedSinceTaken;
    this.droppedSinceTaken = 0;
    return n;
  }

  openSessionCount(): number {
    return this.assembler.openCount;
  }
}

/** `defaultArrivedAt`: the arrival assumed for open sessions saved before arrival times were kept. */
export function newAssembler(opts: LearningOptions, state?: OpenSessionState[], defaultArrivedAt?: number): SessionAssembler {
  const o = { sessionIdleMs: opts.mining.sessionIdleMs, sessionEndGraceMs: opts.sessionEndGraceMs ?? 0, maxStepsPerSession: opts.maxStepsPerSession };
  return state ? SessionAssembler.restore(o, state, defaultArrivedAt) : new SessionAssembler(o);
}
