/** Sessions kept for filtered scans (the most recently closed ones). */
export const MAX_RECENT_SESSIONS = 5000;
/** Calls kept over all of them; a session longer than this on its own is not kept. */
export const MAX_RECENT_STEPS = 100_000;

/** What a filtered scan needs of a closed session. */
export interface RecentSession {
  startedAt: number;
  durationMs: number;
  ok: boolean;
  userId?: string;
  agentId?: string;
  /** Normalised (see normaliseIntent). */
  intent?: string;
  variantId: string;
  truncated: boolean;
  tools: number[];
  gaps: number[];
}

export interface RecentSessionsJson {
  evicted: number;
  evictedMaxStart: number | null;
  items: RecentSession[];
}

/**
 * The most recently closed sessions, bounded in count and in calls: the filter combinations no
 * maintained aggregate serves are answered by scanning them. `covers(from)` says whether every
 * session that started at or after `from` is still here, i.e. whether such a scan is exact.
 */
export class RecentSessions {
  private items: RecentSession[] = [];
  private head = 0;
  private steps = 0;
  /** Sessions that left (or never entered) the window. */
  evicted = 0;
  /** Latest start time among them: a scan from a later time sees every session. */
  evictedMaxStart = Number.NEGATIVE_INFINITY;

  push(s: RecentSession): void {
    if (s.tools.length > MAX_RECENT_STEPS) {
      this.forget(s);
      return;
    }
    this.items.push(s);
    this.steps += s.tools.length;
    while (this.count > MAX_RECENT_SESSIONS || this.steps > MAX_RECENT_STEPS) {
      const old = this.items[this.head++];
      this.steps -= old.tools.length;
      this.forget(old);
    }
    // Drop the consumed front now and then (amortised O(1) per push).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  get count(): number {
    return this.items.length - this.head;
  }

  /** True when every session that started at or after `from` (all sessions for -Infinity) is held. */
  covers(from: number): boolean {
    return this.evicted === 0 || from > this.evictedMaxStart;
  }

  *sessions(): Iterable<RecentSession> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i];
  }

  toJSON(): RecentSessionsJson {
    return { evicted: this.evicted, evictedMaxStart: Number.isFinite(this.evictedMaxStart) ? this.evictedMaxStart : null, items: this.items.slice(this.head) };
  }

  static fromJSON(j: RecentSessionsJson): RecentSessions {
    const r = new RecentSessions();
    r.evicted = j.evicted;
    r.evictedMaxStart = j.evictedMaxStart ?? Number.NEGATIVE_INFINITY;
    for (const s of j.items) r.push(s);
    return r;
  }

  private forget(s: RecentSession): void {
    this.evicted++;
    if (s.startedAt > this.evictedMaxStart) this.evictedMaxStart = s.startedAt;
  }
}
