import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { escapeNul, storableOrJsonText, storableOrJsonTextObject, type ToolEventInput } from '@toolpath/contracts';
import type { PublisherStats } from '@toolpath/sdk';
import { TenantPublishers } from '../events/tenant-publishers';
import type { ChatAnswer } from './chat-answer';
import type { AnsweredToolCall } from './chat-request';

/** One proxied request, as the recorder needs it. */
export interface ProxiedExchange {
  tenantId: string;
  sessionId: string;
  intent?: string;
  userId?: string;
  agentId?: string;
  /** Messages in the request (the final answer's seq). */
  messageCount: number;
  answers: AnsweredToolCall[];
  /** The model's answer; undefined when the upstream failed. */
  answer?: ChatAnswer;
  startedAt: number;
}

export interface RecorderOptions {
  subjectPrefix: string;
  source: string;
  /** Largest tool result kept in an event (the recorder caps stored results again). */
  maxResultChars: number;
  onError: (err: Error) => void;
}

/** PostgreSQL-backed stores refuse NUL in strings; a tool's text output may carry one. */
const NUL = new RegExp(String.fromCharCode(0), 'g');

const MAX_INTENT_CHARS = 10_000;
const MAX_TOOL_NAME = 200;
/** Tool calls and sessions remembered for timing (oldest forgotten first). */
const MAX_REMEMBERED = 50_000;

/**
 * Turns proxied chat requests into tool-call events, published through the SDK's EventPublisher
 * on the gateway's NATS connection. Publishing only queues: a slow or absent NATS never delays
 * or fails a chat answer (the publisher retries, then drops and counts).
 *
 * Event ids are derived from the session and the tool call id, so a client that retries a request
 * (or a second gateway that sees the same conversation) produces duplicates the stream and the
 * recorder discard.
 */
export class ChatSessionRecorder {
  private readonly log = new Logger('OpenAiProxy');
  private readonly publishers: TenantPublishers;
  /** `<tenant>:<tool call id>` → when the model asked for it: the tool's duration is measured from there. */
  private readonly issued = new Map<string, number>();
  /** `<tenant>:<session>` → when its first request arrived. */
  private readonly sessionStarts = new Map<string, number>();

  constructor(
    connection: () => NatsConnection,
    private readonly opts: RecorderOptions,
  ) {
    this.publishers = new TenantPublishers(connection, {
      subjectPrefix: opts.subjectPrefix,
      source: opts.source,
      onError: (err) => {
        this.log.warn(`event publishing: ${err.message}`);
        opts.onError(err);
      },
    });
  }

  /** Publishes what the exchange taught us. Never throws. */
  record(x: ProxiedExchange): void {
    try {
      this.recordOrThrow(x);
    } catch (err) {
      this.opts.onError(err as Error);
    }
  }

  stats(): PublisherStats[] {
    return this.publishers.stats();
  }

  /** Flushes what is queued (bounded) and closes every publisher; the connection stays open. */
  close(timeoutMs = 3000): Promise<void> {
    return this.publishers.close(timeoutMs);
  }

  /** Resolves when every queued event is acknowledged or dropped (tests and benchmarks). */
  flush(timeoutMs = 5000): Promise<void> {
    return this.publishers.flush(timeoutMs);
  }

  private recordOrThrow(x: ProxiedExchange): void {
    const now = Date.now();
    const sessionKey = `${x.tenantId}:${x.sessionId}`;
    const sessionStart = this.sessionStarts.get(sessionKey) ?? x.startedAt;
    remember(this.sessionStarts, sessionKey, sessionStart);
    const intent = x.intent ? x.intent.slice(0, MAX_INTENT_CHARS).replace(NUL, '') : undefined;
    const common = {
      sessionId: x.sessionId,
      ...(intent ? { intent } : {}),
      ...(x.userId ? { userId: x.userId } : {}),
      ...(x.agentId ? { agentId: x.agentId } : {}),
      source: this.opts.source,
    };
    const events: ToolEventInput[] = [];

    for (const a of x.answers) {
      const issuedKey = `${x.tenantId}:${a.toolCallId}`;
      const issuedAt = this.issued.get(issuedKey);
      this.issued.delete(issuedKey);
      const outcome = toolOutcome(a.content);
      events.push({
        ...common,
        eventId: stableId('tc', x.tenantId, x.sessionId, a.toolCallId),
        kind: 'tool_call',
        seq: a.index,
        tool: escapeNul(a.name).slice(0, MAX_TOOL_NAME) || '(unnamed)',
        // What the databases cannot keep as is (see storable.ts) goes as its JSON text.
        parameters: storableOrJsonTextObject(parseArguments(a.arguments)),
        result: capResult(outcome.result, this.opts.maxResultChars),
        success: outcome.success,
        ...(outcome.error ? { error: escapeNul(outcome.error) } : {}),
        startedAt: issuedAt ?? now,
        durationMs: issuedAt !== undefined ? Math.max(0, now - issuedAt) : 0,
      });
    }

    const answer = x.answer;
    if (answer) {
      for (const call of answer.toolCalls) remember(this.issued, `${x.tenantId}:${call.id}`, now);
      // An answer without tool calls ends the task this session stands for.
      if (answer.toolCalls.length === 0 && answer.finishReason !== null) {
        events.push({
          ...common,
          eventId: stableId('end', x.tenantId, x.sessionId, String(x.messageCount)),
          kind: 'session_end',
          seq: x.messageCount,
          success: answer.finishReason === 'stop' || answer.finishReason === 'length',
          ...(answer.finishReason !== 'stop' && answer.finishReason !== 'length' ? { error: `finish_reason ${answer.finishReason}` } : {}),
          result: answer.content,
          startedAt: sessionStart,
          durationMs: Math.max(0, now - sessionStart),
        });
        this.sessionStarts.delete(sessionKey);
      }
    }

    for (const e of events) this.publishers.publish(x.tenantId, e);
  }
}

function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
}

function stableId(kind: string, tenantId: string, sessionId: string, part: string): string {
  return `${kind}_${createHash('sha256').update(`${tenantId}\u0001${sessionId}\u0001${part}`).digest('base64url').slice(0, 32)}`;
}

/** The model's arguments as parameters: the parsed object, or the raw text when it is not one. */
function parseArguments(raw: string): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    return { arguments: v };
  } catch {
    return { arguments: raw };
  }
}

/**
 * A tool message says nothing formal about success, so the proxy reads the usual shapes: a JSON
 * object with `error`, `ok: false` or `success: false`, or text that starts like an error.
 */
export function toolOutcome(content: string): { result: unknown; success: boolean; error?: string } {
  const trimmed = content.trim();
  let parsed: unknown = content;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = content;
    }
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    const err = o.error;
    if ((err !== undefined && err !== null && err !== false) || o.ok === false || o.success === false) {
      const message = typeof err === 'string' ? err : typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : 'the tool reported a failure';
      return { result: parsed, success: false, error: message.slice(0, 1000) };
    }
    return { result: parsed, success: true };
  }
  if (/^(error|exception|traceback|failed|failure)\b/i.test(trimmed)) {
    return { result: parsed, success: false, error: trimmed.slice(0, 1000) };
  }
  return { result: parsed, success: true };
}

function capResult(result: unknown, maxChars: number): unknown {
  if (typeof result === 'string') return (result.length > maxChars ? result.slice(0, maxChars) : result).replace(NUL, '');
  const text = JSON.stringify(result);
  return text.length > maxChars ? text.slice(0, maxChars) : storableOrJsonText(result);
}
