import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

export const CLIENT_INFO = { name: 'toolpath-mcp', version: '0.1.0' };

/** The gateway could not be used: the message says why in words a person can act on. */
export class GatewayUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GatewayUnavailableError';
  }
}

export interface GatewayOptions {
  url: URL;
  apiKey: string;
  connectTimeoutMs: number;
  /** Called when the gateway says its tool list changed. */
  onToolListChanged?: () => void;
}

/** A connected client of the gateway's /mcp, as the SDK's Streamable HTTP client. */
export async function connectGateway(opts: GatewayOptions): Promise<Client> {
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  if (opts.onToolListChanged) {
    const listener = opts.onToolListChanged;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => listener());
  }
  const transport = new StreamableHTTPClientTransport(opts.url, { requestInit: { headers: { authorization: `Bearer ${opts.apiKey}` } } });
  try {
    await client.connect(transport, { timeout: opts.connectTimeoutMs });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw explain(err, opts.url);
  }
  return client;
}

/** True when the gateway no longer knows the session (it restarted, or closed it as idle): connect again. */
export function isSessionGone(err: unknown): boolean {
  return err instanceof StreamableHTTPError && err.code === 404;
}

/** What a failure to reach or use the gateway means, in words a person can act on. */
export function explain(err: unknown, url: URL): GatewayUnavailableError {
  if (err instanceof GatewayUnavailableError) return err;
  const code = causeCode(err);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return new GatewayUnavailableError(`cannot reach the Toolpath gateway at ${url.href} (${code}): is it running, and is --url right?`, { cause: err });
  }
  if (err instanceof StreamableHTTPError || (err as { name?: string })?.name === 'UnauthorizedError') {
    const status = (err as StreamableHTTPError).code;
    if (status === 401 || (err as { name?: string }).name === 'UnauthorizedError') {
      return new GatewayUnavailableError(`the Toolpath gateway at ${url.href} refused the API key (401): check TOOLPATH_API_KEY`, { cause: err });
    }
    if (status === 404) return new GatewayUnavailableError(`${url.href} answered 404: is it a Toolpath gateway's /mcp endpoint?`, { cause: err });
    return new GatewayUnavailableError(`the Toolpath gateway at ${url.href} answered ${status ?? 'an error'}: ${(err as Error).message}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out|timeout/i.test(message)) return new GatewayUnavailableError(`the Toolpath gateway at ${url.href} did not answer in time: ${message}`, { cause: err });
  return new GatewayUnavailableError(`the Toolpath gateway at ${url.href} could not be used: ${message}`, { cause: err });
}

/** The system error code under a fetch failure (`TypeError: fetch failed` with a `cause`). */
function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(nested) && nested.length > 0) {
      const inner = causeCode(nested[0]);
      if (inner) return inner;
    }
  }
  return undefined;
}
