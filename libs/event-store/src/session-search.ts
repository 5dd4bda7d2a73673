import type { Collection, Filter } from 'mongodb';
import type { Page } from '@toolpath/contracts';
import { decodeCursor, encodeCursor } from './cursor';
import { SUMMARY_PROJECTION, summarizeSessions, type SessionSummary, type SummaryRow } from './session-summary';
import type { StoredToolEvent } from './stored-event';

/** What a session must have to be listed; every field left out matches all. */
export interface SessionSearch {
  /** Contained in the session's intent, ignoring case (plain text: no pattern syntax). */
  intent?: string;
  /** Sent at least one of the session's events. */
  agentId?: string;
  /** The session's outcome (its session_end); an open session matches neither value. */
  success?: boolean;
}

/** Rows read at most (past the rows of one millisecond) to fill one page of a search. */
export const SESSION_SEARCH_SCAN_LIMIT = 50_000;
/** Rows per round trip of the scan. */
const SCAN_BATCH = 2_000;
/** Sessions read at once (one equality find each) to sum them up. */
const LOOKUPS_AT_ONCE = 8;
/**
 * Sessions read per page only to learn their intent (no session_end intent, none in the rows
 * scanned): past this many, the page ends there and its cursor resumes after the last one read.
 */
const UNDECIDED_LOOKUPS = 50;

/** Case-insensitive substring: both sides lower-cased the same way, whatever the server. */
export function intentContains(intent: string | undefined, text: string): boolean {
  return intent !== undefined && intent.toLowerCase().includes(text.toLowerCase());
}

function matches(s: SessionSummary, q: SessionSearch): boolean {
  if (q.intent !== undefined && !intentContains(s.intent, q.intent)) return false;
  if (q.agentId !== undefined && !s.agents.includes(q.agentId)) return false;
  if (q.success !== undefined && (!s.ended || s.success !== q.success)) return false;
  return true;
}

interface Candidate {
  /** The start time of its newest event at or below the cursor's time, in ms. */
  last: number;
  id: string;
}

/** Newest first; ties on the time by sessionId, descending (UTF-16 order, the same on every server). */
const byKey = (a: Candidate, b: Candidate) => (a.last !== b.last ? b.last - a.last : a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The sessionIds of the rows an equality filter selects (FerretDB pushes equality down). */
async function sessionIdsWhere(events: Collection<StoredToolEvent>, filter: Filter<StoredToolEvent>): Promise<Set<string>> {
  const rows = await events.find(filter, { projection: { _id: 0, sessionId: 1 } }).toArray();
  return new Set(rows.map((r) => r.sessionId));
}

/** Every intent a session's session_ends carry, by sessionId (an ended session without one maps to []). */
async function endIntents(events: Collection<StoredToolEvent>, tenantId: string): Promise<Map<string, string[]>> {
  const rows = await events.find({ tenantId, kind: 'session_end' }, { projection: { _id: 0, sessionId: 1, intent: 1 } }).toArray();
  const map = new Map<string, string[]>();
  for (const r of rows) {
    const list = map.get(r.sessionId) ?? [];
    if (r.intent) list.push(r.intent);
    map.set(r.sessionId, list);
  }
  return map;
}

/**
 * Sessions most recently active first (the time of their newest event, then sessionId), keyset
 * paged on that pair. Sessions are not stored as rows: one scan reads the tenant's events newest
 * first (`sessionId`, `startedAt`, `intent` only) to find them in order. Every filter is decided
 * here, never sent to the server as a pattern, and the reads are the ones FerretDB v1 does well:
 * equality finds (the agent's rows, the session_ends, each listed session's rows) and that one
 * sorted scan (the cost of the recent-sessions list), whatever the filter.
 *
 * A page scans at most SESSION_SEARCH_SCAN_LIMIT rows (and all the rows of the millisecond it
 * stops in, so a page always moves on): a rare match may leave a page short, even empty, with a
 * `nextCursor` that resumes where it stopped. The last page has `nextCursor` null.
 */
export async function searchSessions(
  events: Collection<StoredToolEvent>,
  tenantId: string,
  q: SessionSearch,
  limit: number,
  cursor?: string,
  opts: { scanLimit?: number; undecidedLookups?: number } = {},
): Promise<Page<SessionSummary>> {
  const scanLimit = opts.scanLimit ?? SESSION_SEARCH_SCAN_LIMIT;
  const undecidedLookups = opts.undecidedLookups ?? UNDECIDED_LOOKUPS;
  // The cursor is the last session examined (time, id), or (time + 0.5, '') after a scan stopped.
  const pos = cursor !== undefined ? decodeCursor(cursor) : undefined;
  const ceiling = pos ? Math.floor(Math.max(-8.64e15, Math.min(8.64e15, pos.value))) : undefined;
  const afterCursor = (c: Candidate) => !pos || c.last < pos.value || (c.last === pos.value && c.id < pos.id);

  // Whole-session facts behind the filters, each from one equality find.
  const [ofAgent, withOutcome, intentsAtEnd] = await Promise.all([
    q.agentId !== undefined ? sessionIdsWhere(events, { tenantId, agentId: q.agentId }) : undefined,
    q.success !== undefined ? sessionIdsWhere(events, { tenantId, kind: 'session_end', success: q.success }) : undefined,
    q.intent !== undefined ? endIntents(events, tenantId) : undefined,
  ]);
  const intentsSeen = new Map<string, Set<string>>();

  /** false: cannot match; true: may match (its summary decides); undefined: its intent is unknown yet. */
  const mayMatch = (c: Candidate): boolean | undefined => {
    if (ofAgent && !ofAgent.has(c.id)) return false;
    if (withOutcome && !withOutcome.has(c.id)) return false;
    if (q.intent === undefined) return true;
    const atEnd = intentsAtEnd?.get(c.id) ?? [];
    const known = atEnd.length > 0 ? atEnd : [...(intentsSeen.get(c.id) ?? [])];
    return known.length > 0 ? known.some((i) => intentContains(i, q.intent!)) : undefined;
  };

  const found: SessionSummary[] = [];
  let lastExamined: Candidate | undefined;
  let undecided = 0;

  /** Sums up the sessions of `ready` (in key order) that may match; true once the page is full or must end. */
  const take = async (ready: Candidate[]): Promise<boolean> => {
    let capped = false;
    for (let i = 0; i < ready.length && !capped; ) {
      const group: Candidate[] = [];
      while (i < ready.length && group.length < LOOKUPS_AT_ONCE) {
        const c = ready[i];
        const verdict = mayMatch(c);
        if (verdict === undefined && undecided >= undecidedLookups) {
          capped = true;
          break;
        }
        i++;
        if (verdict === undefined) undecided++;
        if (verdict === false) lastExamined = c;
        else group.push(c);
      }
      const summaries = await Promise.all(
        group.map(async (c) => {
          const rows = await events.find({ tenantId, sessionId: c.id }, { projection: SUMMARY_PROJECTION }).toArray();
          return summarizeSessions(rows as SummaryRow[]).get(c.id);
        }),
      );
      for (const [k, s] of summaries.entries()) {
        lastExamined = group[k];
        // A session with an event past the cursor's time was on an earlier page (or sorts before it).
        if (!s || !afterCursor({ last: s.lastStartedAt.getTime(), id: s.sessionId }) || !matches(s, q)) continue;
        found.push(s);
        if (found.length > limit) return true;
      }
    }
    return capped;
  };

  const filter: Filter<StoredToolEvent> = { tenantId };
  if (ceiling !== undefined) filter.startedAt = { $lte: new Date(ceiling) };
  const scan = events
    .find(filter, { projection: { _id: 0, sessionId: 1, startedAt: 1, intent: 1 } })
    .sort({ startedAt: -1, _id: -1 })
    .batchSize(Math.min(SCAN_BATCH, scanLimit + 1));
  const seen = new Set<string>();
  let waiting: Candidate[] = [];
  let scanned = 0;
  let edge = Infinity;
  let stopped = false;
  let exhausted = true;
  /** Where the next page resumes when the scan bound ends this one: below the last millisecond done. */
  let resumeBelow = Infinity;
  try {
    for await (const r of scan) {
      const at = r.startedAt.getTime();
      if (at < edge) {
        // Sessions met before this millisecond are complete: no later row can come before them.
        const ready = waiting.filter((c) => c.last > at && afterCursor(c)).sort(byKey);
        waiting = waiting.filter((c) => c.last <= at);
        if (await take(ready)) {
          stopped = true;
          exhausted = false;
          break;
        }
        // Stop scanning at the bound, but only between milliseconds, so the next page starts lower.
        if (scanned >= scanLimit && (ceiling === undefined || at < ceiling)) {
          exhausted = false;
          resumeBelow = at + 0.5;
          break;
        }
        edge = at;
      }
      scanned++;
      if (r.intent) {
        const set = intentsSeen.get(r.sessionId) ?? new Set<string>();
        set.add(r.intent);
        intentsSeen.set(r.sessionId, set);
      }
      if (!seen.has(r.sessionId)) {
        seen.add(r.sessionId);
        // A session is first met at its newest event (at or below the cursor's time).
        waiting.push({ last: at, id: r.sessionId });
      }
    }
  } finally {
    await scan.close();
  }
  if (!stopped && exhausted) {
    // Everything was read: the sessions still waiting are complete too.
    stopped = await take(waiting.filter(afterCursor).sort(byKey));
    if (!stopped) return { items: found, nextCursor: null };
  }
  if (found.length > limit) {
    const last = found[limit - 1];
    return { items: found.slice(0, limit), nextCursor: encodeCursor(last.lastStartedAt.getTime(), last.sessionId) };
  }
  // The page ended early: too many sessions read to learn their intent, or the scan bound.
  // (A page stops early only after reading sessions, so one was examined.)
  if (stopped) return { items: found, nextCursor: encodeCursor(lastExamined!.last, lastExamined!.id) };
  return { items: found, nextCursor: encodeCursor(resumeBelow, '') };
}
