/** Real HTTP calls to a gateway under test, with the API key and the JSON handling every suite needs. */
export interface CallOptions {
  /** API key; `null` sends none; omitted uses the client's default key. */
  key?: string | null;
  body?: unknown;
  /** Sent as is (for malformed JSON); wins over `body`. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: any;
  headers: Headers;
}

export type Call = (method: string, path: string, opts?: CallOptions) => Promise<CallResult>;

/** `baseUrl` is read on every call, so a suite can create the client before its app listens. */
export function gatewayClient(baseUrl: () => string, defaultKey: string): Call {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? defaultKey : opts.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (opts.raw !== undefined || opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = opts.raw ?? JSON.stringify(opts.body);
    }
    const res = await fetch(`${baseUrl()}${path}`, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
}
