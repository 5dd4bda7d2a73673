import { ToolError, abortError, type BuiltinTool, type ToolCallContext } from './tool-error';

export interface HttpRequestLimits {
  maxBytes: number;
  /** Host names the tool may call (the SSRF guard). */
  allowHosts: readonly string[];
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * `http.request`: { method?, url, headers?, body?, timeoutMs? } → { status, headers, body }.
 * Only hosts on the allow list are reached and redirects are not followed (a redirect could
 * leave the list). 5xx and 429 are retryable failures, other 4xx are not.
 */
export class HttpRequestTool implements BuiltinTool {
  readonly name = 'http.request';

  constructor(private readonly limits: HttpRequestLimits) {}

  async call(parameters: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const { url, method, headers, body, timeoutMs } = parameters;
    if (typeof url !== 'string') throw new ToolError('invalid_parameters', 'http.request needs a string "url"', false);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new ToolError('invalid_parameters', `http.request: invalid url ${JSON.stringify(url).slice(0, 200)}`, false);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new ToolError('invalid_parameters', `http.request: only http and https are allowed, not ${target.protocol}`, false);
    }
    if (!this.limits.allowHosts.includes(target.hostname.toLowerCase())) {
      throw new ToolError('host_not_allowed', `http.request: host ${target.hostname} is not allowed (not in EXECUTOR_HTTP_ALLOW_HOSTS)`, false);
    }
    const verb = typeof method === 'string' ? method.toUpperCase() : 'GET';
    if (!METHODS.has(verb)) throw new ToolError('invalid_parameters', `http.request: unsupported method ${verb}`, false);
    const sendHeaders: Record<string, string> = {};
    if (headers !== undefined) {
      if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
        throw new ToolError('invalid_parameters', 'http.request: "headers" must be an object', false);
      }
      for (const [k, v] of Object.entries(headers)) sendHeaders[k] = String(v);
    }
    // The step's key lets a server that honours `Idempotency-Key` apply a retried or taken-over
    // write once; a key the step sets itself wins.
    if (verb !== 'GET' && verb !== 'HEAD' && !Object.keys(sendHeaders).some((k) => k.toLowerCase() === 'idempotency-key')) {
      sendHeaders['idempotency-key'] = context.idempotencyKey;
    }
    let payload: string | undefined;
    if (body !== undefined && verb !== 'GET' && verb !== 'HEAD') {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (typeof body !== 'string' && !Object.keys(sendHeaders).some((k) => k.toLowerCase() === 'content-type')) {
        sendHeaders['content-type'] = 'application/json';
      }
    }
    const signals = [context.signal];
    if (typeof timeoutMs === 'number' && timeoutMs > 0) {
      signals.push(AbortSignal.timeout(timeoutMs));
    }
    const signal = AbortSignal.any(signals);
    let res: Response;
    try {
      res = await fetch(target, { method: verb, headers: sendHeaders, body: payload, redirect: 'manual', signal });
    } catch (err) {
      if (context.signal.aborted) throw abortError(context.signal);
      if (signal.aborted) throw new ToolError('timeout', `http.request: no answer within ${String(timeoutMs)} ms`, true);
      throw new ToolError('network', `http.request: ${(err as Error).message}`, true);
    }
    const text = await readLimited(res, this.limits.maxBytes, signal);
    const contentType = res.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (contentType.includes('json') && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status >= 500 || res.status === 429) {
      throw new ToolError('http_status', `http.request: ${verb} ${target.host}${target.pathname} answered ${res.status}`, true);
    }
    if (res.status >= 400) {
      throw new ToolError('http_status', `http.request: ${verb} ${target.host}${target.pathname} answered ${res.status}`, false);
    }
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed };
  }
}

async function readLimited(res: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new ToolError('too_large', `http.request: response of ${declared} bytes exceeds EXECUTOR_HTTP_MAX_BYTES (${maxBytes})`, false);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new ToolError('timeout', 'http.request: aborted while reading the body', true);
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ToolError('too_large', `http.request: response exceeds EXECUTOR_HTTP_MAX_BYTES (${maxBytes})`, false);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString('utf8');
}
