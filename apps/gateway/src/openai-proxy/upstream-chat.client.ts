import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** The upstream could not be reached, dropped the connection, or answered something unusable (→ 502). */
export class UpstreamUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamUnavailableError';
  }
}

/** The upstream did not answer in time (→ 504). */
export class UpstreamTimeoutError extends Error {
  constructor(readonly afterMs: number, what: string) {
    super(`the upstream LLM ${what} within ${afterMs} ms`);
    this.name = 'UpstreamTimeoutError';
  }
}

export interface UpstreamOptions {
  /** e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Bound on reaching the upstream and receiving its response headers. */
  headersTimeoutMs: number;
}

/** Largest non-streamed upstream body the gateway buffers. */
export const MAX_UPSTREAM_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The one adapter between the gateway and an OpenAI-compatible server: plain node:http(s) on a
 * keep-alive agent, so a proxied call costs one pooled socket write and no client library work.
 */
export class UpstreamChatClient {
  private readonly url: URL;
  private readonly secure: boolean;
  private readonly agent: HttpAgent;
  private readonly authorization?: string;

  constructor(private readonly opts: UpstreamOptions) {
    const base = opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`;
    this.url = new URL(base);
    this.secure = this.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: 512, maxFreeSockets: 64, keepAliveMsecs: 1000 };
    this.agent = this.secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.authorization = opts.apiKey ? `Bearer ${opts.apiKey}` : undefined;
  }

  get baseUrl(): string {
    return this.url.href;
  }

  /**
   * Sends a request and resolves with the upstream response once its headers arrive. Rejects with
   * UpstreamTimeoutError after `headersTimeoutMs`, UpstreamUnavailableError when the connection
   * fails or closes first. `signal` aborts the call (the client went away).
   */
  send(method: 'GET' | 'POST', path: string, body: Buffer | undefined, extraHeaders: OutgoingHttpHeaders, signal?: AbortSignal): Promise<IncomingMessage> {
    const target = new URL(path, this.url);
    const headers: OutgoingHttpHeaders = { accept: 'application/json, text/event-stream', ...extraHeaders };
    if (this.authorization) headers.authorization = this.authorization;
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    const request = this.secure ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = request(target, { method, headers, agent: this.agent }, (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => fail(new UpstreamTimeoutError(this.opts.headersTimeoutMs, 'did not answer')), this.opts.headersTimeoutMs);
      req.on('error', (err) => fail(new UpstreamUnavailableError(`the upstream LLM at ${this.url.origin} (OPENAI_BASE_URL) is unreachable: ${describe(err)}`, { cause: err })));
      if (signal) {
        if (signal.aborted) fail(new UpstreamUnavailableError('the client closed the request'));
        else signal.addEventListener('abort', () => fail(new UpstreamUnavailableError('the client closed the request')), { once: true });
      }
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Reads a whole response body, bounded in time and size. A body cut short (the upstream closed
 * the connection mid-answer) is an UpstreamUnavailableError.
 */
export function readBody(res: IncomingMessage, timeoutMs: number, maxBytes = MAX_UPSTREAM_BODY_BYTES): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        res.destroy();
        reject(err);
      } else {
        resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      }
    };
    const timer = setTimeout(() => finish(new UpstreamTimeoutError(timeoutMs, 'did not finish its answer')), timeoutMs);
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) finish(new UpstreamUnavailableError(`the upstream answer is larger than ${maxBytes} bytes`));
      else chunks.push(c);
    });
    res.on('end', () => finish());
    res.on('aborted', () => finish(new UpstreamUnavailableError('the upstream LLM closed the connection mid-answer')));
    res.on('error', (err) => finish(new UpstreamUnavailableError(`the upstream LLM closed the connection mid-answer: ${describe(err)}`, { cause: err })));
    res.on('close', () => {
      if (!res.complete) finish(new UpstreamUnavailableError('the upstream LLM closed the connection mid-answer'));
    });
  });
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}${e.message && !e.message.includes(e.code) ? ` (${e.message})` : ''}` : String(e?.message ?? err);
}
