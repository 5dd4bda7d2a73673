import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { escapeNul, MAX_TOOL_NAME_LENGTH, storableOrJsonText, storableOrJsonTextObject, type ToolEventInput } from '@toolpath/contracts';
import type { RecordedSession } from './recorded-sessions';

/** The `source` of every event the gateway records. */
export const MCP_GATEWAY_SOURCE = 'mcp-gateway';
const MAX_INTENT_CHARS = 10_000;
const MAX_ERROR_CHARS = 2_000;
const NUL = new RegExp(String.fromCharCode(0), 'g');

/** One finished call, as recorded. */
export interface FinishedCall {
  /** `mcp:<server>/<tool>`: the name the executor runs, so a mined pattern is a runnable workflow. */
  tool: string;
  seq: number;
  args: Record<string, unknown>;
  /** The upstream's answer (an isError result included); undefined when the call itself failed. */
  result?: CallToolResult;
  /** Why the call failed without an answer: transport, timeout, server gone. */
  failure?: string;
  startedAt: number;
  durationMs: number;
}

/**
 * Event ids derive from the tenant, the session, this opening of it and the seq: a publish retried
 * (or re-sent after a gateway restart) is one event, and a reopened session never reuses an id.
 */
export function eventIdOf(kind: 'call' | 'end', s: RecordedSession, seq: number): string {
  const digest = createHash('sha256').update(`${s.tenantId}\u0001${s.sessionId}\u0001${s.epoch}\u0001${seq}`).digest('base64url').slice(0, 32);
  return `mcpgw_${kind}_${digest}`;
}

/** The error a call reports: its transport failure, else the text of an isError result. */
export function callError(call: Pick<FinishedCall, 'result' | 'failure'>): string | undefined {
  if (call.failure !== undefined) return call.failure;
  if (!call.result?.isError) return undefined;
  return contentText(call.result) || 'the tool reported an error without a message';
}

export function toolCallEvent(s: RecordedSession, call: FinishedCall, maxResultChars: number): ToolEventInput {
  const error = callError(call);
  return {
    eventId: eventIdOf('call', s, call.seq),
    kind: 'tool_call',
    sessionId: s.sessionId,
    seq: call.seq,
    tool: escapeNul(call.tool).slice(0, MAX_TOOL_NAME_LENGTH),
    // What the databases cannot keep as is (see storable.ts) goes as its JSON text.
    parameters: storableOrJsonTextObject(call.args),
    ...(call.result ? { result: capResult(resultOf(call.result), maxResultChars) } : {}),
    success: error === undefined,
    ...(error !== undefined ? { error: escapeNul(error).slice(0, MAX_ERROR_CHARS) } : {}),
    startedAt: call.startedAt,
    durationMs: call.durationMs,
    ...intentOf(s),
    source: MCP_GATEWAY_SOURCE,
  };
}

/** The session's outcome: successful unless a tool's latest call failed. */
export function sessionEndEvent(s: RecordedSession, reason: string): ToolEventInput {
  const unresolved = [...s.unresolved.entries()];
  return {
    eventId: eventIdOf('end', s, s.nextSeq),
    kind: 'session_end',
    sessionId: s.sessionId,
    seq: s.nextSeq,
    success: unresolved.length === 0,
    ...(unresolved.length > 0
      ? { error: escapeNul(`the latest call of ${unresolved.map(([tool, err]) => `${tool} failed: ${err}`).join('; ')}`).slice(0, MAX_ERROR_CHARS) }
      : {}),
    result: { calls: s.calls, ended: reason },
    startedAt: s.startedAt,
    durationMs: Math.max(0, s.lastActiveAt - s.startedAt),
    ...intentOf(s),
    source: MCP_GATEWAY_SOURCE,
  };
}

/** An intent as events keep it: at most 10,000 characters, no NUL. */
export function cleanIntent(intent: string): string {
  return intent.trim().slice(0, MAX_INTENT_CHARS).replace(NUL, '');
}

function intentOf(s: RecordedSession): { intent?: string } {
  return s.intent ? { intent: s.intent } : {};
}

/**
 * The result as a workflow step sees the same call in the executor (libs/mcp): the structured
 * content when given, else the text (parsed when it is JSON), else the content list. Events of
 * the gateway and of runs then look alike, which is what the analyzer compares.
 */
export function resultOf(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.length > 0 && content.every((c) => c.type === 'text')) {
    const text = contentText(result, Infinity);
    const t = text.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return text;
      }
    }
    return text;
  }
  return { content };
}

function contentText(result: CallToolResult, max = MAX_ERROR_CHARS): string {
  return (result.content ?? [])
    .map((c) => (c.type === 'text' ? c.text : ''))
    .filter(Boolean)
    .join('\n')
    .slice(0, max);
}

/** A result too long to keep is kept as the start of its JSON text. */
function capResult(result: unknown, maxChars: number): unknown {
  if (typeof result === 'string') return (result.length > maxChars ? result.slice(0, maxChars) : result).replace(NUL, '');
  const text = JSON.stringify(result) ?? '';
  return text.length > maxChars ? text.slice(0, maxChars).replace(NUL, '') : storableOrJsonText(result);
}
