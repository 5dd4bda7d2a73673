import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';

/**
 * A fetch for the SDK's streamable HTTP client transport that turns a request's SSE response
 * stream that breaks or ends before the response (the server died mid-call) into a JSON-RPC
 * `ConnectionClosed` error for that request. The SDK (1.32) only reports such a break to
 * `onerror`, without saying which request it was, so the call would otherwise wait for its whole
 * timeout. A stream the server made resumable (its events carry ids) is left to the SDK, which
 * reconnects and replays it.
 */
export function brokenStreamFetch(base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    const id = requestIdOf(init?.body);
    if (id === undefined || !response.ok || !response.body || !(response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')) return response;
    return new Response(watched(response.body, id), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The id of a single JSON-RPC request in a POST body; undefined for notifications, responses and batches. */
function requestIdOf(body: unknown): string | number | undefined {
  if (typeof body !== 'string' || !body.startsWith('{')) return undefined;
  try {
    const m = JSON.parse(body) as { id?: unknown; method?: unknown };
    return typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number') ? m.id : undefined;
  } catch {
    return undefined;
  }
}

function watched(body: ReadableStream<Uint8Array>, id: string | number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  let data: string[] = [];
  let answered = false;
  let resumable = false;

  // Reads SSE lines only as far as needed: an event id (resumable) or the response to `id`.
  const scan = (text: string) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      if (line === '') {
        if (data.length > 0 && isResponseTo(data.join('\n'), id)) answered = true;
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
      else if (line.startsWith('id:') && line.length > 3) resumable = true;
    }
  };

  const closing = (controller: ReadableStreamDefaultController<Uint8Array>, why: string) => {
    if (!answered && !resumable) {
      const error = { jsonrpc: '2.0', id, error: { code: ErrorCode.ConnectionClosed, message: `the server's response stream ${why} before the response` } };
      controller.enqueue(new TextEncoder().encode(`\n\nevent: message\ndata: ${JSON.stringify(error)}\n\n`));
    }
    controller.close();
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) return closing(controller, 'ended');
        if (!answered && !resumable) scan(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      } catch (err) {
        if (answered || resumable) controller.error(err);
        else closing(controller, `broke (${(err as Error)?.message ?? String(err)})`);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function isResponseTo(text: string, id: string | number): boolean {
  try {
    const m = JSON.parse(text) as { id?: unknown; result?: unknown; error?: unknown };
    return m.id === id && ('result' in m || 'error' in m);
  } catch {
    return false;
  }
}
