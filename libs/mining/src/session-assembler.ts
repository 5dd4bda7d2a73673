import type { ClosedSession, MiningEvent, OpenSessionState, SessionStep } from './mining-types';

export interface SessionAssemblerOptions {
  /** A session closes once the arrival clock reaches its last arrival + this. */
  sessionIdleMs: number;
  /**
   * A session with a session_end closes once the arrival clock reaches the session_end's arrival
   * + this (default 0: at once), so calls published just before it but delivered just after it
   * still join it.
   */
  sessionEndGraceMs?: number;
  /** Tool calls kept per session (the first to arrive); later calls are dropped and counted (default 10,000). */
  maxStepsPerSession?: number;
}

/** An event the assembler cannot place (no tenant, no session, unknown kind); names the field. */
export class MiningInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'MiningInputError';
  }
}

interface OpenSession {
  tenantId: string;
  sessionId: string;
  calls: MiningEvent[];
  end?: MiningEvent;
  droppedSteps: number;
  lastActivityAt: number;
  /** Latest arrival of the session's events (arrival clock). */
  lastArrivedAt: number;
  /** Arrival of its first session_end (-Infinity when that event carried no arrival: it closes at the next closing). */
  endArrivedAt?: number;
  lowestStreamSeq: number;
}

const DEFAULT_MAX_STEPS = 10_000;

/**
 * What changed among the open sessions since the last `takeOpenChanges()`: the sessions to write
 * again whole, and the ids of those that are no longer open. `full` when the store's copy cannot be
 * brought up to date by changes (nothing was saved by this assembler, or pieces found over are
 * pending, which share their id with a newer piece): then every open session must be written.
 */
export type OpenSessionChanges = { full: true } | { full: false; upserts: OpenSessionState[]; removed: Array<{ tenantId: string; sessionId: string }> };

const finiteOr = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);

/**
 * Order inside a session: seq when both events carry one, then startedAt, then the stream
 * sequence (arrival order at the recorder), so ties and gaps in seq or clocks give one stable order.
 */
export function compareSessionEvents(a: MiningEvent, b: MiningEvent): number {
  if (a.seq !== undefined && b.seq !== undefined && a.seq !== b.seq) return a.seq - b.seq;
  const ta = finiteOr(a.startedAt, 0);
  const tb = finiteOr(b.startedAt, 0);
  if (ta !== tb) return ta - tb;
  return a.streamSeq - b.streamSeq;
}

/**
 * Groups events into sessions, per tenant and session id. Sessions close on the **arrival clock**
 * (when events reached Toolpath, `arrivedAt`), never on the time the producer wrote in the event:
 * a session is over once the clock reaches its last arrival + sessionIdleMs, or its session_end's
 * arrival + sessionEndGraceMs. An event of an open session that arrives at or after that point
 * closes it first and opens a new piece of that session. The pieces therefore depend only on the
 * events and their arrival times, never on when the caller closes: closing at any clock not ahead
 * of the arrivals still to come (`takeClosed`) gives the same sessions as closing at every event.
 */
export class SessionAssembler {
  private readonly open = new Map<string, OpenSession>();
  /** Pieces an arriving event found over: closed by the next takeClosed/takeAll. */
  private overdue: OpenSession[] = [];
  private readonly closeAtOf = new WeakMap<ClosedSession, number>();
  private readonly maxSteps: number;
  private readonly graceMs: number;
  /**
   * Change tracking for incremental saves (keys `tenant\0session`): `changed` sessions were opened
   * or received an event since the last take, `gone` ones left the open set. `baselineKnown`: the
   * last saved set is exactly what `openSessions()` returned then, one piece per key.
   */
  private changed = new Set<string>();
  private gone = new Set<string>();
  private baselineKnown = false;

  constructor(readonly opts: SessionAssemblerOptions) {
    if (!Number.isFinite(opts.sessionIdleMs) || opts.sessionIdleMs <= 0) {
      throw new RangeError(`sessionIdleMs must be a positive number, got ${String(opts.sessionIdleMs)}`);
    }
    const grace = opts.sessionEndGraceMs ?? 0;
    if (!Number.isFinite(grace) || grace < 0) throw new RangeError(`sessionEndGraceMs must be a number ≥ 0, got ${String(opts.sessionEndGraceMs)}`);
    this.graceMs = grace;
    this.maxSteps = opts.maxStepsPerSession ?? DEFAULT_MAX_STEPS;
  }

  /** Sessions not closed yet (including pieces found over but not taken). */
  get openCount(): number {
    return this.open.size + this.overdue.length;
  }

  add(event: MiningEvent): void {
    validate(event);
    const key = `${event.tenantId}\u0000${event.sessionId}`;
    let s = this.open.get(key);
    // A session_end without an arrival time only marks the end (it closes at the next closing).
    const arrived = event.kind === 'session_end' ? finiteOr(event.arrivedAt, -Infinity) : arrivalOf(event);
    if (s && arrived >= this.closeAt(s)) {
      this.open.delete(key);
      this.overdue.push(s);
      s = undefined;
    }
    if (!s) {
      s = newOpen(event);
      this.open.set(key, s);
    }
    this.place(s, event);
    this.changed.add(key);
  }

  /** Arrival-clock time at which `s` is over. */
  private closeAt(s: OpenSession): number {
    const idle = s.lastArrivedAt + this.opts.sessionIdleMs;
    return s.endArrivedAt === undefined ? idle : Math.min(idle, s.endArrivedAt + this.graceMs);
  }

  private place(s: OpenSession, event: MiningEvent): void {
    s.lowestStreamSeq = Math.min(s.lowestStreamSeq, event.streamSeq);
    s.lastActivityAt = Math.max(s.lastActivityAt, eventEnd(event));
    if (event.kind === 'session_end') {
      const arrived = finiteOr(event.arrivedAt, -Infinity);
      s.endArrivedAt = s.endArrivedAt === undefined ? arrived : Math.min(s.endArrivedAt, arrived);
      if (Number.isFinite(arrived)) s.lastArrivedAt = Math.max(s.lastArrivedAt, arrived);
      // A repeated session_end keeps the latest one (by stream order): it is the producer's last word.
      if (!s.end || s.end.streamSeq < event.streamSeq) s.end = event;
      return;
    }
    s.lastArrivedAt = Math.max(s.lastArrivedAt, arrivalOf(event));
    if (s.calls.length >= this.maxSteps) {
      s.droppedSteps++;
      return;
    }
    s.calls.push(event);
  }

  private close(s: OpenSession): ClosedSession {
    const closed = closeSession(s);
    this.closeAtOf.set(closed, this.closeAt(s));
    return closed;
  }

  /**
   * Sessions over at `nowMs` on the arrival clock (and those a later event found over), removed
   * from the open set. `nowMs` must not be ahead of an arrival still to come: the latest arrival
   * read, or a time the event source vouches for.
   */
  takeClosed(nowMs: number): ClosedSession[] {
    const out = this.takeOverdue();
    for (const [key, s] of this.open) {
      if (this.closeAt(s) <= nowMs) {
        this.open.delete(key);
        this.markGone(key);
        out.push(this.close(s));
      }
    }
    return this.sortClosed(out);
  }

  /** Closes every open session (shutdown without persistence, or the end of a finite log). */
  takeAll(): ClosedSession[] {
    const out = this.takeOverdue();
    for (const [key, s] of this.open) {
      this.markGone(key);
      out.push(this.close(s));
    }
    this.open.clear();
    return this.sortClosed(out);
  }

  private markGone(key: string): void {
    this.changed.delete(key);
    this.gone.add(key);
  }

  /** The earliest arrival-clock time at which an open session will be over (undefined: none open). */
  nextCloseAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.open.values()) {
      const at = this.closeAt(s);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  private takeOverdue(): ClosedSession[] {
    const out = this.overdue.map((s) => this.close(s));
    this.overdue = [];
    return out;
  }

  /** What must be kept to continue after a restart (JSON-serialisable). */
  openSessions(): OpenSessionState[] {
    // Pieces found over but not taken yet come first: restore() puts them back as over.
    return [...this.overdue, ...this.open.values()].map(savedState);
  }

  /**
   * The open sessions changed since the last call (or since `restore`), for a store that keeps a
   * base of `openSessions()` plus change records; resets the tracking. Applying the changes in
   * order to the last saved set (see `applyOpenChanges`) gives `openSessions()`. When the caller
   * writes the whole set instead, or its write fails, it calls `openSaved`/`openSaveFailed`.
   */
  takeOpenChanges(): OpenSessionChanges {
    const known = this.baselineKnown && this.overdue.length === 0;
    const changed = this.changed;
    const gone = this.gone;
    this.changed = new Set();
    this.gone = new Set();
    if (!known) return { full: true };
    const upserts: OpenSessionState[] = [];
    for (const key of changed) {
      const s = this.open.get(key);
      if (s) upserts.push(savedState(s));
    }
    const removed: Array<{ tenantId: string; sessionId: string }> = [];
    for (const key of gone) {
      // A session closed and opened again since: its new piece replaces it whole.
      if (changed.has(key)) continue;
      const cut = key.indexOf('\u0000');
      removed.push({ tenantId: key.slice(0, cut), sessionId: key.slice(cut + 1) });
    }
    return { full: false, upserts, removed };
  }

  /** The whole of `openSessions()` was just saved: later changes are relative to it. */
  openSaved(): void {
    this.changed.clear();
    this.gone.clear();
    // Pending pieces share their key with a newer one: changes by key cannot describe them.
    this.baselineKnown = this.overdue.length === 0;
  }

  /** A save failed (it may or may not have been stored): the next one writes the whole set. */
  openSaveFailed(): void {
    this.baselineKnown = false;
  }

  /**
   * Continues from `openSessions()`. `defaultArrivedAt` stands for the arrival of sessions saved
   * before arrival times were kept (the time they were last read is the best estimate).
   */
  static restore(opts: SessionAssemblerOptions, state: OpenSessionState[], defaultArrivedAt = -Infinity): SessionAssembler {
    const a = new SessionAssembler(opts);
    // Sessions saved without an arrival time take one here that the store does not hold: the
    // next save writes them all, so a later load never estimates it again differently.
    let exact = true;
    for (const saved of state) {
      const key = `${saved.tenantId}\u0000${saved.sessionId}`;
      if (saved.events.length === 0) continue;
      // A second piece of the same session: the first was found over before the save.
      const earlier = a.open.get(key);
      if (earlier) a.overdue.push(earlier);
      // Saved pieces are placed as they were, without the closing rule: they were open when saved.
      const s = newOpen(saved.events[0]);
      a.open.set(key, s);
      for (const e of saved.events) {
        validate(e);
        a.place(s, e);
      }
      s.droppedSteps += saved.droppedSteps;
      if (Number.isFinite(saved.lastActivityAt)) s.lastActivityAt = Math.max(s.lastActivityAt, saved.lastActivityAt);
      if (typeof saved.lastArrivedAt === 'number' && Number.isFinite(saved.lastArrivedAt)) s.lastArrivedAt = saved.lastArrivedAt;
      else {
        exact = false;
        if (Number.isFinite(defaultArrivedAt)) s.lastArrivedAt = defaultArrivedAt;
      }
      if (s.end && saved.endArrivedAt !== undefined) s.endArrivedAt = saved.endArrivedAt ?? -Infinity;
    }
    a.baselineKnown = exact && a.overdue.length === 0;
    return a;
  }

  /** Lowest streamSeq still held by an open session (the replay point), or undefined. */
  lowestOpenStreamSeq(): number | undefined {
    let low: number | undefined;
    for (const s of [...this.overdue, ...this.open.values()]) if (low === undefined || s.lowestStreamSeq < low) low = s.lowestStreamSeq;
    return low;
  }

  /**
   * A canonical order for the counter: by the arrival-clock time each session was over, then the
   * stream position it completed at. Sessions closed in different steps keep this order too (a
   * session closed in a later step was over later, or opened later), so the counter sees the
   * same sequence whatever the step size.
   */
  private sortClosed(sessions: ClosedSession[]): ClosedSession[] {
    const at = (s: ClosedSession) => this.closeAtOf.get(s) ?? 0;
    return sessions.sort(
      (a, b) => at(a) - at(b) || a.lastStreamSeq - b.lastStreamSeq || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0),
    );
  }
}

function validate(event: MiningEvent): void {
  if (typeof event?.tenantId !== 'string' || event.tenantId === '') throw new MiningInputError('tenantId', 'must be a non-empty string');
  if (typeof event.sessionId !== 'string' || event.sessionId === '') throw new MiningInputError('sessionId', 'must be a non-empty string');
  if (event.kind !== 'tool_call' && event.kind !== 'session_end') throw new MiningInputError('kind', 'must be tool_call or session_end');
  if (event.kind === 'tool_call' && (typeof event.tool !== 'string' || event.tool === '')) throw new MiningInputError('tool', 'must be a non-empty string');
  if (typeof event.streamSeq !== 'number' || !Number.isFinite(event.streamSeq)) throw new MiningInputError('streamSeq', 'must be a number');
}

function savedState(s: OpenSession): OpenSessionState {
  return {
    tenantId: s.tenantId,
    sessionId: s.sessionId,
    events: s.end ? [...s.calls, s.end] : [...s.calls],
    droppedSteps: s.droppedSteps,
    lastActivityAt: s.lastActivityAt,
    lastArrivedAt: s.lastArrivedAt,
    ...(s.endArrivedAt !== undefined ? { endArrivedAt: Number.isFinite(s.endArrivedAt) ? s.endArrivedAt : null } : {}),
  };
}

/**
 * Brings a saved set of open sessions (`openSessions()` of a moment the tracking was known) up to
 * date with the `takeOpenChanges()` records taken since, in order: a session written again
 * replaces its saved copy, a removed one goes. The result restores the same open sessions.
 */
export function applyOpenChanges(base: OpenSessionState[], changes: Array<{ upserts: OpenSessionState[]; removed: Array<{ tenantId: string; sessionId: string }> }>): OpenSessionState[] {
  if (changes.length === 0) return base;
  const byKey = new Map<string, OpenSessionState>();
  for (const s of base) byKey.set(`${s.tenantId}\u0000${s.sessionId}`, s);
  for (const c of changes) {
    for (const r of c.removed) byKey.delete(`${r.tenantId}\u0000${r.sessionId}`);
    for (const s of c.upserts) byKey.set(`${s.tenantId}\u0000${s.sessionId}`, s);
  }
  return [...byKey.values()];
}

function newOpen(event: MiningEvent): OpenSession {
  return {
    tenantId: event.tenantId,
    sessionId: event.sessionId,
    calls: [],
    droppedSteps: 0,
    lastActivityAt: -Infinity,
    lastArrivedAt: -Infinity,
    lowestStreamSeq: event.streamSeq,
  };
}

function eventEnd(e: MiningEvent): number {
  return finiteOr(e.startedAt, 0) + Math.max(0, finiteOr(e.durationMs, 0));
}

/** The event's arrival, or (events without one) its end time. */
function arrivalOf(e: MiningEvent): number {
  return typeof e.arrivedAt === 'number' && Number.isFinite(e.arrivedAt) ? e.arrivedAt : eventEnd(e);
}

function closeSession(s: OpenSession): ClosedSession {
  const calls = s.calls.slice().sort(compareSessionEvents);
  const steps: SessionStep[] = calls.map((e) => ({
    tool: e.tool as string,
    ...(e.parameters !== undefined ? { parameters: e.parameters } : {}),
    ...(e.result !== undefined ? { result: e.result } : {}),
    success: e.success === true,
    ...(e.error !== undefined ? { error: e.error } : {}),
    durationMs: Math.max(0, finiteOr(e.durationMs, 0)),
    startedAt: finiteOr(e.startedAt, 0),
  }));
  const all = s.end ? [...calls, s.end] : calls;
  const first = <K extends 'intent' | 'userId' | 'agentId'>(k: K): string | undefined => {
    if (s.end?.[k]) return s.end[k];
    for (const e of calls) if (e[k]) return e[k];
    return undefined;
  };
  let startedAt = Infinity;
  let endedAt = -Infinity;
  let lastStreamSeq = -Infinity;
  for (const e of all) {
    const t = finiteOr(e.startedAt, 0);
    startedAt = Math.min(startedAt, t);
    endedAt = Math.max(endedAt, t + Math.max(0, finiteOr(e.durationMs, 0)));
    lastStreamSeq = Math.max(lastStreamSeq, e.streamSeq);
  }
  const intent = first('intent');
  const userId = first('userId');
  const agentId = first('agentId');
  return {
    tenantId: s.tenantId,
    sessionId: s.sessionId,
    ...(userId !== undefined ? { userId } : {}),
    ...(agentId !== undefined ? { agentId } : {}),
    ...(intent !== undefined ? { intent } : {}),
    ...(s.end ? { success: s.end.success === true, ended: true } : { ended: false }),
    steps,
    startedAt: Number.isFinite(startedAt) ? startedAt : 0,
    endedAt: Number.isFinite(endedAt) ? endedAt : 0,
    lastStreamSeq: Number.isFinite(lastStreamSeq) ? lastStreamSeq : 0,
    ...(s.droppedSteps > 0 ? { droppedSteps: s.droppedSteps } : {}),
  };
}
