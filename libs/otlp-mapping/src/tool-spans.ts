import { MAX_TOOL_NAME_LENGTH, type ToolEventInput } from '@toolpath/contracts';
import { firstUserText } from './user-message';
import { SpanKind, StatusCode, type OtlpSpan } from './otlp-span';

/**
 * The GenAI semantic conventions' names read here (docs/OTEL.md cites where each is defined):
 * https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/ and
 * https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/.
 */
export const GenAi = {
  operationName: 'gen_ai.operation.name',
  toolName: 'gen_ai.tool.name',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  conversationId: 'gen_ai.conversation.id',
  agentName: 'gen_ai.agent.name',
  agentId: 'gen_ai.agent.id',
  inputMessages: 'gen_ai.input.messages',
  mcpMethodName: 'mcp.method.name',
  errorType: 'error.type',
  endUserId: 'enduser.id',
  userId: 'user.id',
} as const;

export const EXECUTE_TOOL = 'execute_tool';
export const INVOKE_AGENT = 'invoke_agent';
export const MCP_TOOLS_CALL = 'tools/call';
/** `source` of every event made from a span. */
export const OTLP_SOURCE = 'otlp';

/** A tool span that could not become an event, and why. */
export interface RejectedSpan {
  traceId: string;
  spanId: string;
  name: string;
  reason: string;
}

/** One event per tool span, with the span it came from. */
export interface SpanEvent {
  span: OtlpSpan;
  event: ToolEventInput & { eventId: string };
}

export interface MappedSpans {
  events: SpanEvent[];
  rejected: RejectedSpan[];
  /** Spans that are not tool calls (model calls, agent runs, HTTP, ...), and MCP server-side and nested tool spans. */
  ignored: number;
}

/** Longest intent the event contract takes. */
const MAX_INTENT_LENGTH = 10_000;
const MAX_ID_LENGTH = 256;
/** Ancestors walked for the conversation, agent, user and intent (a cycle of parent ids ends sooner). */
const MAX_ANCESTORS = 64;

/**
 * Maps the spans of one export to tool-call events (pure: the same spans give the same events,
 * ids included). A tool span is one with `gen_ai.operation.name = execute_tool`, or an MCP client
 * span of `tools/call`; the rest is counted in `ignored`. The enclosing spans of the same export
 * supply what the tool span itself may lack (conversation, agent, user, the agent's input).
 */
export function mapToolSpans(spans: readonly OtlpSpan[]): MappedSpans {
  const byId = new Map<string, OtlpSpan>();
  for (const s of spans) byId.set(spanKey(s.traceId, s.spanId), s);
  const firstUserMessage = new FirstUserMessages(spans);

  const events: SpanEvent[] = [];
  const rejected: RejectedSpan[] = [];
  let ignored = 0;
  for (const span of spans) {
    if (!isToolSpan(span)) {
      ignored++;
      continue;
    }
    // An MCP client span inside an execute_tool span (or the reverse) is the same call seen twice.
    const parent = span.parentSpanId ? byId.get(spanKey(span.traceId, span.parentSpanId)) : undefined;
    if (parent && isToolSpan(parent)) {
      ignored++;
      continue;
    }
    const outcome = toEvent(span, byId, firstUserMessage);
    if (typeof outcome === 'string') rejected.push({ traceId: span.traceId, spanId: span.spanId, name: span.name, reason: outcome });
    else events.push({ span, event: outcome });
  }
  return { events, rejected, ignored };
}

/** Whether a span records a tool call: execute_tool, or the client side of an MCP tools/call. */
export function isToolSpan(span: OtlpSpan): boolean {
  const mcpMethod = span.attributes[GenAi.mcpMethodName];
  // The server side of an MCP call repeats what its client span records.
  if (mcpMethod !== undefined && span.kind === SpanKind.Server) return false;
  return span.attributes[GenAi.operationName] === EXECUTE_TOOL || mcpMethod === MCP_TOOLS_CALL;
}

/** The event id of a span: a re-sent span gets the same one (JetStream and the recorder drop the repeat). */
export function spanEventId(traceId: string, spanId: string): string {
  return `otlp-${traceId}-${spanId}`;
}

function spanKey(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}

/** The event of a tool span, or why there can be none. */
function toEvent(span: OtlpSpan, byId: Map<string, OtlpSpan>, firstUserMessage: FirstUserMessages): SpanEvent['event'] | string {
  if (!/^[0-9a-f]{32}$/.test(span.traceId) || /^0+$/.test(span.traceId)) return 'traceId must be 16 bytes, not all zero';
  if (!/^[0-9a-f]{16}$/.test(span.spanId) || /^0+$/.test(span.spanId)) return 'spanId must be 8 bytes, not all zero';
  const tool = toolName(span);
  if (!tool) return `no tool name: set ${GenAi.toolName} (or name the span "execute_tool <tool>" / "tools/call <tool>")`;
  if (tool.length > MAX_TOOL_NAME_LENGTH) return `${GenAi.toolName} is over ${MAX_TOOL_NAME_LENGTH} characters`;
  const start = BigInt(span.startTimeUnixNano);
  const end = BigInt(span.endTimeUnixNano);
  if (start === 0n) return 'startTimeUnixNano is missing';
  if (end === 0n) return 'endTimeUnixNano is missing';
  if (end < start) return 'endTimeUnixNano is before startTimeUnixNano';

  const ancestors = ancestorsOf(span, byId);
  const chain = [span, ...ancestors];
  const sessionId = firstString(chain, GenAi.conversationId) ?? span.traceId;
  if (sessionId.length > MAX_ID_LENGTH) return `${GenAi.conversationId} is over ${MAX_ID_LENGTH} characters`;
  const agentId = firstString(chain, GenAi.agentName) ?? firstString(chain, GenAi.agentId);
  const userId = firstString(chain, GenAi.endUserId) ?? firstString(chain, GenAi.userId) ?? resourceString(span, GenAi.endUserId) ?? resourceString(span, GenAi.userId);
  const agentSpan = ancestors.find((a) => a.attributes[GenAi.operationName] === INVOKE_AGENT);
  const intent = (agentSpan ? firstUserText(agentSpan.attributes[GenAi.inputMessages]) : undefined) ?? firstUserMessage.of(span.traceId);

  const failed = span.status.code === StatusCode.Error || span.attributes[GenAi.errorType] !== undefined;
  const event: SpanEvent['event'] = {
    kind: 'tool_call',
    eventId: spanEventId(span.traceId, span.spanId),
    sessionId,
    tool,
    success: !failed,
    startedAt: Number(start / 1_000_000n),
    durationMs: Number(end - start) / 1e6,
    source: OTLP_SOURCE,
  };
  const args = span.attributes[GenAi.toolCallArguments];
  if (args !== undefined && args !== null) event.parameters = asParameters(args);
  const result = span.attributes[GenAi.toolCallResult];
  if (result !== undefined && result !== null) event.result = parseJsonText(result);
  if (failed) event.error = errorText(span);
  if (agentId !== undefined) event.agentId = agentId.slice(0, MAX_ID_LENGTH);
  if (userId !== undefined) event.userId = userId.slice(0, MAX_ID_LENGTH);
  if (intent !== undefined) event.intent = intent.slice(0, MAX_INTENT_LENGTH);
  return event;
}

function toolName(span: OtlpSpan): string | undefined {
  const named = span.attributes[GenAi.toolName];
  if (typeof named === 'string' && named.trim() !== '') return named.trim();
  // The conventions name the spans "execute_tool {gen_ai.tool.name}" and "tools/call {gen_ai.tool.name}".
  const m = /^(?:execute_tool|tools\/call)\s+(\S.*)$/.exec(span.name);
  return m ? m[1].trim() : undefined;
}

/** The span's parents present in the export, nearest first. */
function ancestorsOf(span: OtlpSpan, byId: Map<string, OtlpSpan>): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  let parentId = span.parentSpanId;
  while (parentId && out.length < MAX_ANCESTORS) {
    const parent = byId.get(spanKey(span.traceId, parentId));
    if (!parent || parent === span || out.includes(parent)) break;
    out.push(parent);
    parentId = parent.parentSpanId;
  }
  return out;
}

function firstString(chain: OtlpSpan[], key: string): string | undefined {
  for (const s of chain) {
    const v = s.attributes[key];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function resourceString(span: OtlpSpan, key: string): string | undefined {
  const v = span.resource[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The conventions expect arguments as an object, recorded as JSON text where attributes cannot be
 * structured. Text is parsed; a value that is still not an object is kept under `arguments`.
 */
function asParameters(value: unknown): Record<string, unknown> {
  const parsed = parseJsonText(value);
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  return { arguments: parsed };
}

/** JSON text as the value it encodes; anything else (plain text included) as it is. */
function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}

/** `error.type`, and the status description or the exception's message when there is one. */
function errorText(span: OtlpSpan): string {
  const type = span.attributes[GenAi.errorType];
  const exception = span.events.find((e) => e.name === 'exception');
  const message = span.status.message || (typeof exception?.attributes['exception.message'] === 'string' ? (exception.attributes['exception.message'] as string) : '');
  const typeText = type === undefined || type === null ? '' : String(type);
  const text = typeText && message ? `${typeText}: ${message}` : typeText || message || 'the span ended with status ERROR';
  return text.slice(0, 10_000);
}

/**
 * The first user message of each trace in the export, from the earliest span that captured one:
 * `gen_ai.input.messages` (a model call's or an agent's input), or the older `gen_ai.user.message`
 * span event. Computed on first request per trace.
 */
class FirstUserMessages {
  private readonly byTrace = new Map<string, string | null>();
  private grouped?: Map<string, OtlpSpan[]>;

  constructor(private readonly spans: readonly OtlpSpan[]) {}

  of(traceId: string): string | undefined {
    if (!this.byTrace.has(traceId)) this.byTrace.set(traceId, this.find(traceId) ?? null);
    return this.byTrace.get(traceId) ?? undefined;
  }

  private find(traceId: string): string | undefined {
    if (!this.grouped) {
      this.grouped = new Map();
      for (const s of this.spans) {
        if (s.attributes[GenAi.inputMessages] === undefined && !s.events.some((e) => e.name === 'gen_ai.user.message')) continue;
        const list = this.grouped.get(s.traceId) ?? [];
        list.push(s);
        this.grouped.set(s.traceId, list);
      }
    }
    const candidates = [...(this.grouped.get(traceId) ?? [])].sort((a, b) => compareNanos(a.startTimeUnixNano, b.startTimeUnixNano));
    for (const s of candidates) {
      const fromAttribute = firstUserText(s.attributes[GenAi.inputMessages]);
      if (fromAttribute) return fromAttribute;
      const event = s.events.find((e) => e.name === 'gen_ai.user.message' && typeof e.attributes.content === 'string' && e.attributes.content !== '');
      if (event) return event.attributes.content as string;
    }
    return undefined;
  }
}

function compareNanos(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
