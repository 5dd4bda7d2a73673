import type { ClosedSession, MiningEvent, OpenSessionState } from './mining-types';

export interface SessionAssemblerOptions {
  sessionIdleMs: number;
  /** Tool calls kept per session (the first ones); later calls are dropped and counted (default 10,000). */
  maxStepsPerSession?: number;
}

/** Groups events into sessions (ordered by seq, then startedAt, then streamSeq); one per tenant. */
export class SessionAssembler {
  constructor(readonly opts: SessionAssemblerOptions) {}
  add(_event: MiningEvent): void {
    throw new Error('not implemented');
  }
  takeClosed(_nowMs: number): ClosedSession[] {
    throw new Error('not implemented');
  }
  takeAll(): ClosedSession[] {
    throw new Error('not implemented');
  }
  openSessions(): OpenSessionState[] {
    throw new Error('not implemented');
  }
  static restore(opts: SessionAssemblerOptions, _state: OpenSessionState[]): SessionAssembler {
    return new SessionAssembler(opts);
  }
  lowestOpenStreamSeq(): number | undefined {
    throw new Error('not implemented');
  }
  get openCount(): number {
    return 0;
  }
}
