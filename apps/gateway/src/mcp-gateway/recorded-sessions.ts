import type { McpCallContext } from '../mcp-server/mcp-tool-provider';

/** Why a recorded session ended. */
export type SessionEndReason = 'mcp_session_closed' | 'idle' | 'evicted' | 'shutdown';

/** One recorded session: the tool calls an agent made through the gateway for one task. */
export interface RecordedSession {
  readonly key: string;
  readonly tenantId: string;
  /** The recorded `sessionId`: the client's conversation id, else the MCP session id (`~<n>` added when reopened, see `session`). */
  readonly sessionId: string;
  /** Tells this opening of the session apart from an earlier one with the same id, in event ids. */
  readonly epoch: string;
  intent?: string;
  /** The seq of the next call (calls are numbered in the order they start). */
  nextSeq: number;
  /** Calls recorded so far. */
  calls: number;
  /** Tools whose latest call failed (a later success of the same tool resolves it) → that call's error. */
  readonly unresolved: Map<string, string>;
  readonly startedAt: number;
  lastActiveAt: number;
  /** Calls still running: the session does not end under them. */
  inFlight: number;
  /** Set when the session should end but a call is still running; it ends when the last one finishes. */
  endPending?: SessionEndReason;
  /** MCP sessions that fed it (one unless several share a conversation id); it ends when the last closes. */
  readonly mcpSessions: Set<string>;
}

export interface RecordedSessionsOptions {
  idleMs: number;
  maxSessions: number;
  /** Publishes the session's end; never throws. */
  onEnd: (session: RecordedSession, reason: SessionEndReason) => void;
  now?: () => number;
}

/** MCP sessions remembered per recorded session (a conversation id shared by more is unusual). */
const MAX_MCP_SESSIONS_PER_SESSION = 64;

/**
 * The open recorded sessions, bounded: at most `maxSessions` (one more ends the least recently
 * active), each ended after `idleMs` without a call, or when the MCP sessions that fed it close.
 * The map's insertion order is the order of last activity, so both the idle sweep and eviction
 * read from its front.
 */
export class RecordedSessions {
  private readonly open = new Map<string, RecordedSession>();
  /** `<tenant>\u0001<MCP session>` → keys of the recorded sessions it feeds. */
  private readonly byMcpSession = new Map<string, Set<string>>();
  /** Key → how many times a session of that id has ended, so that a reopened one gets a new id (bounded like `open`). */
  private readonly ended = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: RecordedSessionsOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * The session a call of `ctx` belongs to, opened when needed and marked active. A session id
   * that already ended here (idle, or its MCP session closed) is reopened as `<id>~2`, `~3`, ...:
   * each recorded session has one session_end.
   */
  session(ctx: McpCallContext): RecordedSession {
    const base = ctx.conversationId ?? ctx.mcpSessionId;
    const key = `${ctx.tenantId}\u0001${base}`;
    const now = this.now();
    let s = this.open.get(key);
    if (s) {
      this.open.delete(key);
    } else {
      const endedBefore = this.ended.get(key) ?? 0;
      s = {
        key,
        tenantId: ctx.tenantId,
        sessionId: endedBefore > 0 ? `${base}~${endedBefore + 1}` : base,
        epoch: `${now}\u0001${ctx.mcpSessionId}`,
        nextSeq: 0,
        calls: 0,
        unresolved: new Map(),
        startedAt: now,
        lastActiveAt: now,
        inFlight: 0,
        mcpSessions: new Set(),
      };
    }
    s.lastActiveAt = now;
    // Active again: an end that was waiting for running calls no longer applies.
    s.endPending = undefined;
    this.open.set(key, s);
    this.link(s, ctx);
    if (this.open.size > this.opts.maxSessions) {
      const oldest = this.open.values().next().value as RecordedSession;
      this.end(oldest, 'evicted', true);
    }
    return s;
  }

  /** A call of the session started. */
  callStarted(s: RecordedSession): number {
    s.inFlight++;
    return s.nextSeq++;
  }

  /** A call of the session finished (recorded or not): ends the session if that was waiting for it. */
  callFinished(s: RecordedSession, tool: string, error: string | undefined): void {
    s.inFlight = Math.max(0, s.inFlight - 1);
    s.calls++;
    s.lastActiveAt = this.now();
    if (error === undefined) s.unresolved.delete(tool);
    else s.unresolved.set(tool, error);
    if (s.inFlight === 0 && s.endPending && this.open.get(s.key) === s) this.end(s, s.endPending, true);
  }

  /** The MCP session closed: every recorded session only it fed ends (after its running calls). */
  mcpSessionClosed(ctx: McpCallContext): void {
    const mcpKey = `${ctx.tenantId}\u0001${ctx.mcpSessionId}`;
    const keys = this.byMcpSession.get(mcpKey);
    if (!keys) return;
    this.byMcpSession.delete(mcpKey);
    for (const key of keys) {
      const s = this.open.get(key);
      if (!s) continue;
      s.mcpSessions.delete(ctx.mcpSessionId);
      if (s.mcpSessions.size === 0) this.end(s, 'mcp_session_closed', false);
    }
  }

  /** Ends the sessions idle for `idleMs` or more (oldest activity first, so it stops at the first active one). */
  sweep(): void {
    const cutoff = this.now() - this.opts.idleMs;
    for (const s of [...this.open.values()]) {
      if (s.lastActiveAt > cutoff) break;
      this.end(s, 'idle', false);
    }
  }

  /** Ends every open session (the gateway is stopping): running calls are not waited for. */
  endAll(): void {
    for (const s of [...this.open.values()]) this.end(s, 'shutdown', true);
  }

  private link(s: RecordedSession, ctx: McpCallContext): void {
    if (s.mcpSessions.has(ctx.mcpSessionId)) return;
    if (s.mcpSessions.size >= MAX_MCP_SESSIONS_PER_SESSION) {
      const first = s.mcpSessions.values().next().value as string;
      s.mcpSessions.delete(first);
      this.unlink(s.key, `${s.tenantId}\u0001${first}`);
    }
    s.mcpSessions.add(ctx.mcpSessionId);
    const mcpKey = `${ctx.tenantId}\u0001${ctx.mcpSessionId}`;
    let keys = this.byMcpSession.get(mcpKey);
    if (!keys) this.byMcpSession.set(mcpKey, (keys = new Set()));
    keys.add(s.key);
  }

  private unlink(key: string, mcpKey: string): void {
    const keys = this.byMcpSession.get(mcpKey);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.byMcpSession.delete(mcpKey);
  }

  /** Ends `s` now, or (unless `now`) once its running calls finish. */
  private end(s: RecordedSession, reason: SessionEndReason, now: boolean): void {
    if (!now && s.inFlight > 0) {
      s.endPending ??= reason;
      return;
    }
    this.open.delete(s.key);
    for (const id of s.mcpSessions) this.unlink(s.key, `${s.tenantId}\u0001${id}`);
    const times = (this.ended.get(s.key) ?? 0) + 1;
    this.ended.delete(s.key);
    this.ended.set(s.key, times);
    if (this.ended.size > this.opts.maxSessions) this.ended.delete(this.ended.keys().next().value as string);
    this.opts.onEnd(s, reason);
  }
}
