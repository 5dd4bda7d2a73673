import type { CaseIdSeed } from './import-event-id';

/** What is remembered of a case between its activities: a few numbers, never the activities. */
export interface CaseState {
  /** Position of the next activity in the case (the `seq` of its event). */
  nextSeq: number;
  /** Activities published for the case. */
  calls: number;
  failed: number;
  /** Activities whose outcome the log stated. */
  outcomesKnown: number;
  firstMs: number;
  lastEndMs: number;
  intent?: string;
  /** Set by the event mapper on the case's first activity. */
  idSeed?: CaseIdSeed;
}

/**
 * Open cases by id. A CSV log may interleave its cases, so a case stays open until the end of the
 * file (memory grows with the number of cases, not of activities); an XES trace is closed at its
 * end tag.
 */
export class CaseTracker {
  private readonly open = new Map<string, CaseState>();
  /** The case's state, opened on its first activity (or first skipped row). */
  get(caseId: string): CaseState {
    let state = this.open.get(caseId);
    if (state === undefined) {
      state = { nextSeq: 0, calls: 0, failed: 0, outcomesKnown: 0, firstMs: Infinity, lastEndMs: -Infinity };
      this.open.set(caseId, state);
    }
    return state;
  }

  /** Removes and returns the case (undefined if it had no activity). */
  close(caseId: string): CaseState | undefined {
    const state = this.open.get(caseId);
    this.open.delete(caseId);
    return state;
  }

  /** Removes and yields every open case, in the order they were opened. */
  *closeAll(): Generator<[string, CaseState]> {
    for (const entry of this.open) {
      this.open.delete(entry[0]);
      yield entry;
    }
  }
}
