import type { StoredToolEvent } from './stored-event';

/** One session as the lists show it, summed up from its events. */
export interface SessionSummary {
  sessionId: string;
  intent?: string;
  success?: boolean;
  ended: boolean;
  events: number;
  toolCalls: number;
  failedCalls: number;
  tools: string[];
  /** The agents (agentId) that sent its events, sorted. */
  agents: string[];
  firstStartedAt: Date;
  lastStartedAt: Date;
}

/** The fields of a row a summary needs (what the reads project). */
export type SummaryRow = Pick<StoredToolEvent, 'sessionId' | 'kind' | 'tool' | 'success' | 'intent' | 'agentId' | 'startedAt'>;

export const SUMMARY_PROJECTION = { sessionId: 1, kind: 1, tool: 1, success: 1, intent: 1, agentId: 1, startedAt: 1 } as const;

/**
 * Summaries of the sessions whose rows are given, by sessionId. The intent is the session_end's
 * when it has one (what the producer said at the end), else any event's; the outcome is the
 * session_end's success, absent while the session is open.
 */
export function summarizeSessions(rows: Iterable<SummaryRow>): Map<string, SessionSummary> {
  const bySession = new Map<string, SessionSummary>();
  for (const r of rows) {
    let s = bySession.get(r.sessionId);
    if (!s) {
      s = { sessionId: r.sessionId, ended: false, events: 0, toolCalls: 0, failedCalls: 0, tools: [], agents: [], firstStartedAt: r.startedAt, lastStartedAt: r.startedAt };
      bySession.set(r.sessionId, s);
    }
    s.events++;
    if (r.startedAt < s.firstStartedAt) s.firstStartedAt = r.startedAt;
    if (r.startedAt > s.lastStartedAt) s.lastStartedAt = r.startedAt;
    if (r.intent && (!s.intent || r.kind === 'session_end')) s.intent = r.intent;
    if (typeof r.agentId === 'string' && !s.agents.includes(r.agentId)) s.agents.push(r.agentId);
    if (r.kind === 'session_end') {
      s.ended = true;
      s.success = r.success;
    } else {
      s.toolCalls++;
      if (!r.success) s.failedCalls++;
      if (r.tool && !s.tools.includes(r.tool)) s.tools.push(r.tool);
    }
  }
  for (const s of bySession.values()) s.agents.sort();
  return bySession;
}
