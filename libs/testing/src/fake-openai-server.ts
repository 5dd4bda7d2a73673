import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A real local HTTP server that speaks the OpenAI chat-completions protocol, scripted per test.
 * Tests of anything that talks to an LLM (the generator, the gateway's proxy) point their
 * `OPENAI_BASE_URL` at `server.baseURL` and queue the answers they want, in order.
 */

/** A tool call the scripted model makes; `arguments` given as an object is JSON-encoded. */
export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: string | Record<string, unknown>;
}

/** One scripted answer. The first field that applies wins: drop, garbage, status, then a completion. */
export interface ScriptedReply {
  /** Wait this long before answering (the client sees no headers meanwhile). */
  delayMs?: number;
  /** Assistant text; an object is JSON-encoded (a "JSON mode" answer). */
  content?: string | Record<string, unknown> | unknown[] | null;
  toolCalls?: ScriptedToolCall[];
  finishReason?: 'stop' | 'tool_calls' | 'length' | 'content_filter';
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Answer with this HTTP status and an OpenAI-style error body instead of a completion. */
  status?: number;
  /** Sent as `Retry-After` (seconds) with an error status. */
  retryAfterSeconds?: number;
  /** Error body (default: `{ error: { message, type, code } }`). */
  errorBody?: unknown;
  /**
   * Close the socket without a complete answer: `before-headers` sends nothing, `mid-stream`
   * sends the first streamed chunk (or half of the JSON body) then closes.
   */
  drop?: 'before-headers' | 'mid-stream';
  /** Answer 200 with these bytes (not the protocol). */
  garbage?: string | Buffer;
  /** Content type sent with `garbage` (default application/json, so the client tries to parse it). */
  garbageContentType?: string;
  /** Streaming only: text pieces to send (default: the content split by words). */
  chunks?: string[];
  /** Streaming only: pause between chunks. */
  chunkDelayMs?: number;
}

/** What the server saw, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when the body was empty or not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  rawBody: string;
  receivedAt: number;
}

export interface FakeOpenAiServerOptions {
  /** Answer when the queue is empty (default: a 500 that says the script ran out). */
  fallback?: ScriptedReply | ((req: RecordedRequest) => ScriptedReply);
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
  /** Listed by `GET /v1/models`. */
  models?: string[];
  /** Keep at most this many recorded requests (oldest dropped; default 10,000). */
  recordLimit?: number;
}

/** Builders for the common scripted answers. */
export const fakeReply = {
  text: (content: string, extra: Partial<ScriptedReply> = {}): ScriptedReply => ({ content, ...extra }),
  json: (value: Record<string, unknown> | unknown[], extra: Partial<ScriptedReply> = {}): ScriptedReply => ({
    content: value,
    ...extra,
  }),
  /** Content that claims to be JSON but does not parse. */
  invalidJson: (extra: Partial<ScriptedReply> = {}): ScriptedReply => ({
    content: '{"name": "unterminated", "steps": [ {"id": ',
    ...extra,
  }),
  toolCalls: (calls: ScriptedToolCall[], extra: Partial<ScriptedReply> = {}): ScriptedReply => ({
    content: null,
    toolCalls: calls,
    ...extra,
  }),
  error: (status: number, extra: Partial<ScriptedReply> = {}): ScriptedReply => ({ status, ...extra }),
  rateLimited: (retryAfterSeconds = 0, extra: Partial<ScriptedReply> = {}): ScriptedReply => ({
    status: 429,
    retryAfterSeconds,
    ...extra,
  }),
  drop: (when: 'before-headers' | 'mid-stream' = 'before-headers'): ScriptedReply => ({ drop: when }),
  garbage: (bytes: string | Buffer = '\u0007<html>not json at all', contentType?: string): ScriptedReply => ({
    garbage: bytes,
    garbageContentType: contentType,
  }),
  /** Any reply, answered after a pause. */
  delayed: (delayMs: number, inner: ScriptedReply = { content: 'late' }): ScriptedReply => ({ ...inner, delayMs }),
};

export interface FakeOpenAiServer {
  /** `http://127.0.0.1:<port>/v1`: what the openai client takes as `baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Requests to `POST /v1/chat/completions` only. */
  chatRequests(): RecordedRequest[];
  /** Appends answers to the queue. */
  enqueue(...replies: ScriptedReply[]): void;
  /** Answers still queued. */
  pending(): number;
  /** Replaces the fallback answer used when the queue is empty. */
  setFallback(fallback: FakeOpenAiServerOptions['fallback']): void;
  /** Forgets the queue and the recorded requests. */
  reset(): void;
  /** Resolves when at least `n` requests have been received (bounded). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Stops listening, cancels pending delays and closes every open connection. */
  close(): Promise<void>;
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${Date.now().toString(36)}${(counter++).toString(36)}`;

function roughTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function contentText(content: ScriptedReply['content']): string | null {
  if (content == null) return null;
  return typeof content === 'string' ? content : JSON.stringify(content);
}

function toolCallsWire(calls: ScriptedToolCall[] | undefined) {
  return (calls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}_${(counter++).toString(36)}`,
    type: 'function' as const,
    function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
  }));
}

export async function startFakeOpenAiServer(options: FakeOpenAiServerOptions = {}): Promise<FakeOpenAiServer> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const recordLimit = options.recordLimit ?? 10_000;
  let fallback = options.fallback;
  const sockets = new Set<Socket>();
  // Pending pauses, so close() can end them instead of leaving handlers waiting.
  const timers = new Map<NodeJS.Timeout, () => void>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];

  const sleep = (ms: number, res: ServerResponse) =>
    new Promise<boolean>((resolve) => {
      if (ms <= 0) return resolve(!res.destroyed);
      const t = setTimeout(() => {
        timers.delete(t);
        resolve(!res.destroyed);
      }, ms);
      timers.set(t, () => resolve(false));
      res.once('close', () => {
        if (timers.delete(t)) {
          clearTimeout(t);
          resolve(false);
        }
      });
    });

  const record = (rec: RecordedRequest) => {
    requests.push(rec);
    if (requests.length > recordLimit) requests.splice(0, requests.length - recordLimit);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (requests.length >= waiters[i].n) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const nextReply = (rec: RecordedRequest): ScriptedReply => {
    const queued = queue.shift();
    if (queued) return queued;
    if (typeof fallback === 'function') return fallback(rec);
    if (fallback) return fallback;
    return {
      status: 500,
      errorBody: { error: { message: 'fake-openai: no scripted reply left', type: 'server_error', code: 'script_exhausted' } },
    };
  };

  async function answerChat(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const script = nextReply(req);
    if (script.delayMs && !(await sleep(script.delayMs, res))) return;

    if (script.drop === 'before-headers') {
      res.socket?.destroy();
      return;
    }
    if (script.garbage !== undefined) {
      res.writeHead(200, { 'content-type': script.garbageContentType ?? 'application/json' });
      res.end(script.garbage);
      return;
    }
    if (script.status !== undefined && script.status >= 400) {
      const headers: Record<string, string> = {};
      if (script.retryAfterSeconds !== undefined) headers['retry-after'] = String(script.retryAfterSeconds);
      sendJson(
        res,
        script.status,
        script.errorBody ?? {
          error: {
            message: `fake-openai: scripted ${script.status}`,
            type: script.status === 429 ? 'rate_limit_exceeded' : 'server_error',
            code: script.status === 429 ? 'rate_limit_exceeded' : null,
          },
        },
        headers,
      );
      return;
    }

    const body = (req.body ?? {}) as { model?: string; messages?: unknown; stream?: boolean; stream_options?: { include_usage?: boolean } };
    const model = typeof body.model === 'string' ? body.model : 'fake-model';
    const text = contentText(script.content === undefined && !script.toolCalls ? 'ok' : script.content);
    const calls = toolCallsWire(script.toolCalls);
    const finish = script.finishReason ?? (calls.length ? 'tool_calls' : 'stop');
    const usage = script.usage ?? {
      prompt_tokens: roughTokens(JSON.stringify(body.messages ?? '')),
      completion_tokens: roughTokens((text ?? '') + JSON.stringify(calls)),
    };
    const usageWire = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
    const id = nextId('chatcmpl');
    const created = Math.floor(Date.now() / 1000);

    if (!body.stream) {
      const completion = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null, ...(calls.length ? { tool_calls: calls } : {}) },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: usageWire,
      };
      if (script.drop === 'mid-stream') {
        const encoded = JSON.stringify(completion);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(encoded) });
        res.write(encoded.slice(0, Math.floor(encoded.length / 2)));
        setImmediate(() => res.socket?.destroy());
        return;
      }
      sendJson(res, 200, completion);
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
    const frames: string[] = [chunk({ role: 'assistant', content: text === null ? null : '' })];
    if (text) {
      const pieces = script.chunks ?? text.match(/\S+\s*|\s+/g) ?? [text];
      for (const p of pieces) frames.push(chunk({ content: p }));
    }
    calls.forEach((c, index) => {
      frames.push(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] }));
      const args = c.function.arguments;
      const half = Math.ceil(args.length / 2);
      for (const part of [args.slice(0, half), args.slice(half)]) {
        if (part) frames.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
      }
    });
    frames.push(chunk({}, finish));
    if (body.stream_options?.include_usage) {
      frames.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageWire })}\n\n`);
    }
    frames.push('data: [DONE]\n\n');

    for (let i = 0; i < frames.length; i++) {
      if (res.destroyed) return;
      res.write(frames[i]);
      if (script.drop === 'mid-stream' && i === 0) {
        setImmediate(() => res.socket?.destroy());
        return;
      }
      if (script.chunkDelayMs && i < frames.length - 1 && !(await sleep(script.chunkDelayMs, res))) return;
    }
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '/').split('?')[0];
    const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, rawBody, receivedAt: Date.now() };
    record(rec);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const models = options.models ?? ['fake-model'];
      sendJson(res, 200, { object: 'list', data: models.map((m) => ({ id: m, object: 'model', created: 0, owned_by: 'toolpath-test' })) });
      return;
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (!body || typeof body !== 'object' || !Array.isArray((body as { messages?: unknown }).messages)) {
        sendJson(res, 400, { error: { message: "'messages' is a required array", type: 'invalid_request_error', param: 'messages', code: null } });
        return;
      }
      await answerChat(rec, res);
      return;
    }
    sendJson(res, 404, { error: { message: `fake-openai: no route ${req.method} ${path}`, type: 'invalid_request_error', code: 'not_found' } });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake-openai: ${String(err)}`, type: 'server_error' } });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions'),
    enqueue: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    setFallback: (f) => {
      fallback = f;
    },
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    waitForRequests: (n, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.length >= n) return resolve();
        const t = setTimeout(() => reject(new Error(`fake-openai: ${requests.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      }),
    close: async () => {
      for (const [t, cancel] of timers) {
        clearTimeout(t);
        cancel();
      }
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
