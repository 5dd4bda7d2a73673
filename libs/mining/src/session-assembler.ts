import type { ClosedSession, MiningEvent, OpenSessionState, SessionStep } from './mining-types';

export interface SessionAssemblerOptions {
  sessionIdleMs: number;
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
  lowestStreamSeq: number;
}

const DEFAULT_MAX_STEPS = 10_000;

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
 * Groups events into sessions, per tenant and session id, in any order of arrival. A session
 * closes at its session_end, or when it has been idle for sessionIdleMs by the clock the caller
 * passes (the latest event time seen, so replays close sessions the same way as live runs).
 * Events of a session that arrive after it closed open a new piece of that session.
 */
export class SessionAssembler {
  private readonly open = new Map<string, OpenSession>();
  private readonly maxSteps: number;

  constructor(readonly opts: SessionAssemblerOptions) {
    if (!Number.isFinite(opts.sessionIdleMs) || opts.sessionIdleMs <= 0) {
      throw new RangeError(`sessionIdleMs must be a positive number, got ${String(opts.sessionIdleMs)}`);
    }
    this.maxSteps = opts.maxStepsPerSession ?? DEFAULT_MAX_STEPS;
  }

  get openCount(): number {
    return this.open.size;
  }

  add(event: MiningEvent): void {
    if (typeof event?.tenantId !== 'string' || event.tenantId === '') throw new MiningInputError('tenantId', 'must be a non-empty string');
    if (typeof event.sessionId !== 'string' || event.sessionId === '') throw new MiningInputError('sessionId', 'must be a non-empty string');
    if (event.kind !== 'tool_call' && event.kind !== 'session_end') throw new MiningInputError('kind', 'must be tool_call or session_end');
    if (event.kind === 'tool_call' && (typeof event.tool !== 'string' || event.tool === '')) throw new MiningInputError('tool', 'must be a non-empty string');
    if (typeof event.streamSeq !== 'number' || !Number.isFinite(event.streamSeq)) throw new MiningInputError('streamSeq', 'must be a number');
    const key = `${event.tenantId}\u0000${event.sessionId}`;
    let s = this.open.get(key);
    if (!s) {
      s = { tenantId: event.tenantId, sessionId: event.sessionId, calls: [], droppedSteps: 0, lastActivityAt: -Infinity, lowestStreamSeq: event.streamSeq };
      this.open.set(key, s);
    }
    s.lowestStreamSeq = Math.min(s.lowestStreamSeq, event.streamSeq);
    s.lastActivityAt = Math.max(s.lastActivityAt, finiteOr(event.startedAt, 0) + Math.max(0, finiteOr(event.durationMs, 0)));
    if (event.kind === 'session_end') {
      // A repeated session_end keeps the latest one (by stream order): it is the producer's last word.
      if (!s.end || s.end.streamSeq < event.streamSeq) s.end = event;
      return;
    }
    if (s.calls.length >= this.maxSteps) {
      s.droppedSteps++;
      return;
    }
    s.calls.push(event);
  }

  /** Sessions ended by a session_end, or idle for sessionIdleMs at `nowMs`; removed from the open set. */
  takeClosed(nowMs: number): ClosedSession[] {
    const out: ClosedSession[] = [];
    for (const [key, s] of this.open) {
      if (s.end || s.lastActivityAt + this.opts.sessionIdleMs <= nowMs) {
        this.open.delete(key);
        out.push(closeSession(s));
      }
    }
    return sortClosed(out);
  }

  /** Closes every open session (end of a full rebuild, or shutdown without persistence). */
  takeAll(): ClosedSession[] {
    const out = [...this.open.values()].map(closeSession);
    this.open.clear();
    return sortClosed(out);
  }

  /** What must be kept to continue after a restart (JSON-serialisable). */
  openSessions(): OpenSessionState[] {
    return [...this.open.values()].map((s) => ({
      tenantId: s.tenantId,
      sessionId: s.sessionId,
      events: s.end ? [...s.calls, s.end] : [...s.calls],
      droppedSteps: s.droppedSteps,
      lastActivityAt: s.lastActivityAt,
    }));
  }

  static restore(opts: SessionAssemblerOptions, state: OpenSessionState[]): SessionAssembler {
    const a = new SessionAssembler(opts);
    for (const s of state) {
      for (const e of s.events) a.add(e);
      const open = a.open.get(`${s.tenantId}\u0000${s.sessionId}`);
      if (open) {
        open.droppedSteps += s.droppedSteps;
        if (Number.isFinite(s.lastActivityAt)) open.lastActivityAt = Math.max(open.lastActivityAt, s.lastActivityAt);
      }
    }
    return a;
  }

  /** Lowest streamSeq still held by an open session (the replay point), or undefined. */
  lowestOpenStreamSeq(): number | undefined {
    let low: number | undefined;
    for (const s of this.open.values()) if (low === undefined || s.lowestStreamSeq < low) low = s.lowestStreamSeq;
    return low;
  }
}

function sortClosed(sessions: ClosedSession[]): ClosedSession[] {
  // Deterministic order for the counter: by the stream position at which each session completed.
  return sessions.sort((a, b) => a.lastStreamSeq - b.lastStreamSeq || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
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
