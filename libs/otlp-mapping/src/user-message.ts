/**
 * The text of the first user message in a captured chat history (`gen_ai.input.messages`), which
 * arrives as JSON text or as a structured value. Two shapes are read: the conventions' current
 * one, `[{ role: 'user', parts: [{ type: 'text', content }] }]`, and the older OpenAI-like
 * `[{ role: 'user', content: '...' }]` many instrumentations still emit.
 */
export function firstUserText(messages: unknown): string | undefined {
  let list = messages;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(list)) return undefined;
  for (const m of list) {
    if (typeof m !== 'object' || m === null || (m as { role?: unknown }).role !== 'user') continue;
    const text = textOf(m as { parts?: unknown; content?: unknown });
    if (text) return text;
  }
  return undefined;
}

function textOf(message: { parts?: unknown; content?: unknown }): string | undefined {
  if (Array.isArray(message.parts)) {
    const texts = message.parts
      .filter((p): p is { type: string; content: string } => typeof p === 'object' && p !== null && (p as { type?: unknown }).type === 'text' && typeof (p as { content?: unknown }).content === 'string')
      .map((p) => p.content);
    return texts.length > 0 ? texts.join('\n') : undefined;
  }
  if (typeof message.content === 'string') return message.content || undefined;
  // OpenAI's content parts: [{ type: 'text', text }].
  if (Array.isArray(message.content)) {
    const texts = message.content
      .filter((p): p is { text: string } => typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string')
      .map((p) => p.text);
    return texts.length > 0 ? texts.join('\n') : undefined;
  }
  return undefined;
}
