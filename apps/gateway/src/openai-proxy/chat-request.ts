import { createHash } from 'node:crypto';
import { ApiError } from '@toolpath/platform';

/** A chat message as the proxy needs to read it; every other field is forwarded untouched. */
export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id?: string; type?: string; function?: { name?: string; arguments?: string } }>;
  tool_call_id?: string;
  [key: string]: unknown;
}

/** The request body: known fields typed, the rest kept so that it reaches the upstream unchanged. */
export interface ChatRequestBody {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  user?: string;
  [key: string]: unknown;
}

/**
 * Checks what the proxy itself relies on (an object with a non-empty `messages` array of objects
 * with a role, a string model, a boolean stream) and leaves the rest to the upstream, which knows
 * its own parameters better. Throws a 400 naming the field.
 */
export function parseChatRequest(body: unknown, defaultModel: string | undefined): ChatRequestBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'the body must be a JSON object with "messages"', [{ field: '(root)', message: 'expected a JSON object' }]);
  }
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    throw new ApiError(400, '"messages" must be a non-empty array', [{ field: 'messages', message: 'expected a non-empty array of messages' }]);
  }
  b.messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof (m as ChatMessage).role !== 'string') {
      throw new ApiError(400, `messages[${i}] must be an object with a string "role"`, [{ field: `messages[${i}].role`, message: 'expected a string' }]);
    }
  });
  if (b.model !== undefined && (typeof b.model !== 'string' || b.model.length === 0)) {
    throw new ApiError(400, '"model" must be a non-empty string', [{ field: 'model', message: 'expected a non-empty string' }]);
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') {
    throw new ApiError(400, '"stream" must be a boolean', [{ field: 'stream', message: 'expected true or false' }]);
  }
  if (b.model === undefined) {
    if (!defaultModel) {
      throw new ApiError(400, '"model" is required: the request names none and OPENAI_MODEL is not set', [{ field: 'model', message: 'required' }]);
    }
    b.model = defaultModel;
  }
  return b as ChatRequestBody;
}

/** The text of a message's content: a string, or the text parts of a multi-part content. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** Seed 000's intent: the last user message. */
export function intentOf(messages: ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') {
      const text = messageText(messages[i].content).trim();
      return text || undefined;
    }
  }
  return undefined;
}

/** Longest session id the proxy accepts from a client header. */
export const MAX_SESSION_HEADER = 128;
export const SESSION_HEADER_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * The session a request belongs to. A client that sends `X-Toolpath-Session` decides. Otherwise
 * the id is derived from the conversation: a digest of the tenant, the first system message and
 * the first user message (the same on every request of one conversation, since clients resend
 * the history) plus the number of user messages so far. So one user request and the tool-call
 * round trips that serve it share a session, and a follow-up question in the same conversation
 * starts the next one: each session has one intent and ends with one session_end.
 */
export function sessionIdOf(tenantId: string, body: ChatRequestBody, header: string | undefined): string {
  if (header !== undefined) {
    if (!SESSION_HEADER_PATTERN.test(header)) {
      throw new ApiError(400, `X-Toolpath-Session must be 1-${MAX_SESSION_HEADER} printable ASCII characters`, [
        { field: 'x-toolpath-session', message: 'invalid session id' },
      ]);
    }
    return header;
  }
  const firstSystem = body.messages.find((m) => m.role === 'system' || m.role === 'developer');
  const firstUser = body.messages.find((m) => m.role === 'user');
  const userTurns = body.messages.reduce((n, m) => n + (m.role === 'user' ? 1 : 0), 0);
  const digest = createHash('sha256')
    .update(tenantId)
    .update('\u0001')
    .update(typeof body.user === 'string' ? body.user : '')
    .update('\u0001')
    .update(firstSystem ? messageText(firstSystem.content) : '')
    .update('\u0001')
    .update(firstUser ? messageText(firstUser.content) : '')
    .digest('base64url')
    .slice(0, 22);
  return `chat_${digest}_${userTurns}`;
}

/** A tool call the model made in an earlier answer, and the tool message that answers it now. */
export interface AnsweredToolCall {
  toolCallId: string;
  name: string;
  arguments: string;
  content: string;
  /** Index of the tool message in `messages` (the event's seq). */
  index: number;
}

/**
 * The tool results this request brings: the `tool` messages after the last assistant message,
 * matched to the tool calls of the assistant message that asked for them. Earlier ones were in
 * earlier requests of the conversation (clients resend the whole history), and were recorded then.
 */
export function newToolAnswers(messages: ChatMessage[]): AnsweredToolCall[] {
  let lastAssistant = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'assistant') {
      lastAssistant = i;
      break;
    }
  }
  if (lastAssistant < 0) return [];
  const calls = new Map<string, { name: string; arguments: string }>();
  for (const c of messages[lastAssistant].tool_calls ?? []) {
    if (c && typeof c.id === 'string' && c.function && typeof c.function.name === 'string') {
      calls.set(c.id, { name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : '' });
    }
  }
  const answers: AnsweredToolCall[] = [];
  for (let i = lastAssistant + 1; i < messages.length; i++) {
    const m = messages[i];
    if (m.role !== 'tool' || typeof m.tool_call_id !== 'string') continue;
    const call = calls.get(m.tool_call_id);
    if (!call) continue;
    answers.push({ toolCallId: m.tool_call_id, name: call.name, arguments: call.arguments, content: messageText(m.content), index: i });
  }
  return answers;
}

/** Puts a system message after the client's leading system messages, so its own prompt stays first. */
export function withSystemMessage(messages: ChatMessage[], content: string): ChatMessage[] {
  let at = 0;
  while (at < messages.length && (messages[at].role === 'system' || messages[at].role === 'developer')) at++;
  return [...messages.slice(0, at), { role: 'system', content }, ...messages.slice(at)];
}
