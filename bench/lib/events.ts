import { eventKey, timestampToMillis, validateToolEvent, type ToolEventInput } from '@toolpath/contracts';
import type { StoredToolEvent } from '@toolpath/event-store';
import { buildEvent, encodeEvent, type EncodedEvent } from '@toolpath/sdk';

/** The tenant every bench event belongs to (each run has its own subject prefix and database). */
export const BENCH_TENANT = 'bench';

const TOOLS = [
  'github.search_issues', 'github.create_pull_request', 'jira.get_issue', 'jira.transition', 'slack.post_message',
  'fs.read_file', 'fs.write_file', 'http.get', 'sql.query', 'search.web', 'calendar.list_events', 'email.send',
  'llm.summarize', 'shell.run', 'docs.lookup', 'k8s.rollout_status',
];
const INTENTS = ['triage the new bug reports', 'ship the release notes', 'answer the customer ticket', 'rotate the staging secrets'];
/** Events per session: 9 tool calls and the session_end that closes it. */
const SESSION_LENGTH = 10;

/**
 * Event number `i` of a bench run: sessions of nine tool calls and a `session_end`, sixteen tools,
 * small parameters and results, one failure in eight. About 600 bytes once encoded, like a
 * typical traced call. Deterministic in `i`, so every phase of a bench stores the same rows.
 */
export function benchEventInput(i: number, runToken: string): ToolEventInput {
  const session = Math.floor(i / SESSION_LENGTH);
  const seq = i % SESSION_LENGTH;
  const startedAt = 1_767_225_600_000 + i * 37; // 2026-01-01, 37 ms apart
  const common = {
    sessionId: `${runToken}-s${session}`,
    userId: `user-${session % 97}`,
    agentId: `agent-${session % 7}`,
    seq,
    startedAt,
    source: 'bench',
  };
  if (seq === SESSION_LENGTH - 1) {
    return { ...common, kind: 'session_end', success: session % 5 !== 0, durationMs: 4_210 + (i % 1000), intent: INTENTS[session % INTENTS.length] };
  }
  const tool = TOOLS[(session * 3 + seq) % TOOLS.length];
  const success = i % 8 !== 3;
  return {
    ...common,
    kind: 'tool_call',
    tool,
    parameters: { query: `status of ticket ${1000 + (i % 5000)} in project acme`, limit: 20, includeClosed: false, labels: ['bug', 'p2'] },
    result: success ? { count: 3, items: [{ id: i, title: 'Login fails after password reset', state: 'open' }], nextPage: null } : undefined,
    success,
    error: success ? undefined : 'upstream returned 503 Service Unavailable',
    durationMs: 12 + (i % 400) * 1.5,
  };
}

/** Encodes event `i` exactly as the SDK publishes it (a fresh UUIDv7 eventId). */
export function encodeBenchEvent(i: number, runToken: string, subjectPrefix: string): EncodedEvent {
  return encodeEvent(buildEvent(benchEventInput(i, runToken), { tenantId: BENCH_TENANT }), subjectPrefix);
}

/**
 * The row the recorder stores for a message: decode, validate against the contract, add `_id`,
 * `receivedAt` and `streamSeq`. Mirrors apps/recorder's decode step (which benches do not import:
 * apps are not libraries), so the baselines write and do the same work per row as the recorder.
 */
export function storedRow(data: Uint8Array, streamSeq: number, receivedAt: Date): StoredToolEvent {
  const parsed: unknown = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  const checked = validateToolEvent(parsed);
  if (!checked.ok) throw new Error(`bench event invalid: ${JSON.stringify(checked.issues)}`);
  const event = checked.event;
  return {
    ...event,
    _id: eventKey(event.tenantId, event.eventId),
    startedAt: new Date(timestampToMillis(event.startedAt)),
    receivedAt,
    streamSeq,
  };
}
