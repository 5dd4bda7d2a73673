import { StringDecoder } from 'node:string_decoder';

/** What the proxy keeps of a model's answer: enough to record it, never the whole stream. */
export interface ChatAnswer {
  content: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: string | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

/** Longest answer text kept for the session_end result. */
export const MAX_KEPT_CONTENT = 4096;

/** Reads the first choice of a non-streamed completion; undefined when it is not one. */
export function answerFromCompletion(body: unknown): ChatAnswer | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { choices?: unknown }).choices)) return undefined;
  const b = body as { choices: Array<Record<string, unknown>>; usage?: ChatAnswer['usage'] };
  const choice = b.choices[0] ?? {};
  const message = (choice.message ?? {}) as { content?: unknown; tool_calls?: unknown };
  const toolCalls: ChatAnswer['toolCalls'] = [];
  if (Array.isArray(message.tool_calls)) {
    for (const c of message.tool_calls as Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }>) {
      if (typeof c?.id === 'string' && typeof c.function?.name === 'string') {
        toolCalls.push({ id: c.id, name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : '' });
      }
    }
  }
  return {
    content: typeof message.content === 'string' ? message.content.slice(0, MAX_KEPT_CONTENT) : '',
    toolCalls,
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
    usage: b.usage,
  };
}

/**
 * Follows a chat-completions SSE stream as it passes through, reassembling the first choice's
 * text, tool calls (sent as fragments keyed by index) and finish reason. It only reads: the bytes
 * are forwarded before they are fed here.
 */
export class StreamedAnswer {
  private buffer = '';
  /** Keeps a UTF-8 character split across two network chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();
  private content = '';
  private finishReason: string | null = null;
  private usage?: ChatAnswer['usage'];
  /** `data: [DONE]` was seen: the upstream finished the stream properly. */
  done = false;
  /** An `error` object arrived inside the stream. */
  streamError?: string;

  push(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    let at: number;
    while ((at = this.frameEnd()) >= 0) {
      const frame = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at).replace(/^(\r?\n){1,2}/, '');
      this.frame(frame);
    }
  }

  answer(): ChatAnswer {
    return { content: this.content, toolCalls: [...this.calls.values()].filter((c) => c.name), finishReason: this.finishReason, usage: this.usage };
  }

  private frameEnd(): number {
    const lf = this.buffer.indexOf('\n\n');
    const crlf = this.buffer.indexOf('\r\n\r\n');
    if (lf < 0) return crlf;
    if (crlf < 0) return lf;
    return Math.min(lf, crlf);
  }

  private frame(frame: string): void {
    const data = frame
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (!data) return;
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let chunk: {
      choices?: Array<{ delta?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }>;
      usage?: ChatAnswer['usage'];
      error?: { message?: unknown };
    };
    try {
      chunk = JSON.parse(data);
    } catch {
      return;
    }
    if (chunk.error) this.streamError = typeof chunk.error.message === 'string' ? chunk.error.message : 'error in stream';
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
    const delta = choice.delta;
    if (!delta) return;
    if (typeof delta.content === 'string' && this.content.length < MAX_KEPT_CONTENT) {
      this.content = (this.content + delta.content).slice(0, MAX_KEPT_CONTENT);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const d of delta.tool_calls as Array<{ index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }>) {
        const index = typeof d?.index === 'number' ? d.index : 0;
        const call = this.calls.get(index) ?? { id: '', name: '', arguments: '' };
        if (typeof d.id === 'string') call.id = d.id;
        if (typeof d.function?.name === 'string' && d.function.name) call.name = d.function.name;
        if (typeof d.function?.arguments === 'string') call.arguments += d.function.arguments;
        this.calls.set(index, call);
      }
    }
  }
}
