import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { brokenStreamFetch } from './broken-stream-fetch';
import type { McpServerConfig } from './mcp-config';
import { McpToolError } from './mcp-errors';

/** A tool an MCP server offers, as Toolpath lists it. */
export interface McpToolInfo {
  server: string;
  /** The tool's own name on its server. */
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}

export type McpServerState = 'idle' | 'connecting' | 'connected' | 'failed' | 'closed';

export interface McpServerStatus {
  name: string;
  transport: 'stdio' | 'http';
  state: McpServerState;
  /** Tools in the last list fetched (null before the first). */
  toolCount: number | null;
  toolsFetchedAt: string | null;
  connectedAt: string | null;
  lastError: string | null;
  /** Failed connection attempts in a row (reset by a success). */
  failures: number;
}

export interface McpConnectionDefaults {
  connectTimeoutMs: number;
  callTimeoutMs: number;
  toolsTtlMs: number;
  /** The clock the restart backoff reads (tests step it instead of waiting). Default Date.now. */
  now?: () => number;
}

export interface McpCallOptions {
  signal?: AbortSignal;
  /** Epoch ms after which the caller stops waiting (the call's timeout is the sooner of this and callTimeoutMs). */
  deadline?: number;
  /** Sent as the request's `_meta` (MCP's place for what is not an argument): the executor's idempotency key and attempt kind. */
  meta?: Record<string, unknown>;
  /** Receives the server's progress notifications for this call (a progress token is then sent). */
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

const CLIENT_INFO = { name: 'toolpath', version: '0.1.0' };
const MAX_BACKOFF_MS = 30_000;
const STDERR_TAIL_CHARS = 2000;
const MAX_LISTED_TOOLS = 10_000;

/**
 * One configured MCP server behind the official SDK client. It connects on first use (bounded by
 * connectTimeoutMs), keeps the connection, and when the server dies (process exit, HTTP session
 * gone) forgets it so that the next use reconnects. Failed connection attempts back off
 * exponentially (1 s, 2 s, ... up to 30 s) so that a broken server is not restarted on every call.
 */
export class McpConnection {
  private client?: Client;
  private connecting?: Promise<Client>;
  private state: McpServerState = 'idle';
  private lastError: string | null = null;
  private connectedAt: Date | null = null;
  private failures = 0;
  private retryAt = 0;
  private tools?: McpToolInfo[];
  private toolsAt = 0;
  private stderrTail = '';
  private closed = false;
  private readonly now: () => number;

  constructor(
    readonly config: McpServerConfig,
    private readonly defaults: McpConnectionDefaults,
  ) {
    this.now = defaults.now ?? Date.now;
  }

  get name(): string {
    return this.config.name;
  }

  status(): McpServerStatus {
    return {
      name: this.config.name,
      transport: this.config.transport,
      state: this.state,
      toolCount: this.tools ? this.tools.length : null,
      toolsFetchedAt: this.tools ? new Date(this.toolsAt).toISOString() : null,
      connectedAt: this.connectedAt ? this.connectedAt.toISOString() : null,
      lastError: this.lastError,
      failures: this.failures,
    };
  }

  /** The server's tools: from the cache while it is younger than toolsTtlMs, else asked again. */
  async listTools(opts: { refresh?: boolean } = {}): Promise<McpToolInfo[]> {
    if (!opts.refresh && this.tools && Date.now() - this.toolsAt < this.defaults.toolsTtlMs) return this.tools;
    const client = await this.ensure();
    const timeout = this.config.connectTimeoutMs ?? this.defaults.connectTimeoutMs;
    const found: McpToolInfo[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout });
        for (const t of page.tools) {
          found.push({
            server: this.config.name,
            name: t.name,
            ...(t.description ? { description: t.description } : {}),
            inputSchema: t.inputSchema as Record<string, unknown>,
            ...(t.outputSchema ? { outputSchema: t.outputSchema as Record<string, unknown> } : {}),
          });
        }
        cursor = page.nextCursor;
      } while (cursor && found.length < MAX_LISTED_TOOLS);
    } catch (err) {
      throw this.callError(err, 'tools/list', timeout);
    }
    this.tools = found;
    this.toolsAt = Date.now();
    return found;
  }

  /**
   * Calls a tool and returns its result as a workflow step sees it: `structuredContent` when the
   * tool gives one, else its text (parsed when it is JSON), else the raw content list. A result
   * flagged `isError` is a non-retryable McpToolError carrying the tool's text.
   */
  async callTool(tool: string, args: Record<string, unknown>, opts: McpCallOptions = {}): Promise<unknown> {
    const result = await this.callToolResult(tool, args, opts);
    if (result.isError) {
      throw new McpToolError('tool_error', `MCP tool "${tool}" on "${this.name}" failed: ${contentText(result) || 'no message'}`, false);
    }
    return stepResult(result);
  }

  /**
   * Calls a tool and returns the server's answer as it is, `isError` results included (the
   * recording MCP gateway forwards it to its client). Transport failures, timeouts and refusals
   * throw McpToolError, as in callTool.
   */
  async callToolResult(tool: string, args: Record<string, unknown>, opts: McpCallOptions = {}): Promise<CallToolResult> {
    if (opts.signal?.aborted) throw new McpToolError('aborted', `call to "${tool}" on MCP server "${this.name}" was aborted before it started`, false);
    const client = await this.ready(tool, opts);
    const budget = this.config.callTimeoutMs ?? this.defaults.callTimeoutMs;
    const timeout = Math.max(1, Math.min(budget, opts.deadline !== undefined ? opts.deadline - Date.now() : budget));
    try {
      return (await client.callTool({ name: tool, arguments: args, ...(opts.meta ? { _meta: opts.meta } : {}) }, undefined, {
        signal: opts.signal,
        timeout,
        ...(opts.onProgress ? { onprogress: opts.onProgress } : {}),
      })) as CallToolResult;
    } catch (err) {
      if (opts.signal?.aborted) throw new McpToolError('aborted', `call to "${tool}" on MCP server "${this.name}" was aborted`, false, { cause: err });
      throw this.callError(err, `tool "${tool}"`, timeout);
    }
  }

  /** Closes the connection (a stdio server's process ends with it). Later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.state = 'closed';
    const client = this.client;
    this.client = undefined;
    if (client) await client.close().catch(() => undefined);
    const pending = this.connecting;
    if (pending) await pending.then((c) => c.close()).catch(() => undefined);
  }

  /**
   * The connection, waited for no longer than the call's deadline or abort signal: a server still
   * starting must not hold a step past its timeout. The start goes on for the calls after it.
   */
  private async ready(tool: string, opts: McpCallOptions): Promise<Client> {
    const pending = this.ensure();
    if (this.client || (opts.deadline === undefined && !opts.signal)) return pending;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          if (opts.deadline !== undefined) {
            const ms = Math.max(0, opts.deadline - Date.now());
            timer = setTimeout(() => reject(new McpToolError('timeout', `MCP server "${this.name}" was still starting when tool "${tool}" ran out of time (${ms} ms)`, true)), ms);
          }
          if (opts.signal) {
            onAbort = () => reject(new McpToolError('aborted', `call to "${tool}" on MCP server "${this.name}" was aborted while the server was starting`, false));
            opts.signal.addEventListener('abort', onAbort, { once: true });
          }
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async ensure(): Promise<Client> {
    if (this.client) return this.client;
    if (this.closed) throw new McpToolError('unavailable', `MCP server "${this.name}" is closed`, false);
    if (!this.connecting) {
      const wait = this.retryAt - this.now();
      if (wait > 0) {
        throw new McpToolError('unavailable', `MCP server "${this.name}" is unavailable (${this.lastError ?? 'failed'}); next attempt in ${wait} ms`, true);
      }
      this.connecting = this.connect().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    this.state = 'connecting';
    this.stderrTail = '';
    const timeout = this.config.connectTimeoutMs ?? this.defaults.connectTimeoutMs;
    const transport = this.transport();
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    client.onclose = () => {
      if (this.client !== client) return;
      // The server went away (process exit, HTTP session closed): the next use reconnects.
      this.client = undefined;
      this.tools = undefined;
      this.connectedAt = null;
      if (!this.closed) {
        this.state = 'idle';
        this.lastError = `connection closed${this.stderrSuffix()}`;
      }
    };
    client.onerror = (err: Error) => {
      this.lastError = err.message;
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(transport, { timeout }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no initialize answer within ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (err) {
      await client.close().catch(() => undefined);
      this.failures++;
      this.retryAt = this.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
      this.state = 'failed';
      this.lastError = `${describe(err)}${this.stderrSuffix()}`;
      throw new McpToolError('unavailable', `MCP server "${this.name}" could not be ${this.config.transport === 'stdio' ? 'started' : 'reached'}: ${this.lastError}`, true, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw new McpToolError('unavailable', `MCP server "${this.name}" is closed`, false);
    }
    this.failures = 0;
    this.retryAt = 0;
    this.state = 'connected';
    this.lastError = null;
    this.connectedAt = new Date();
    this.client = client;
    return client;
  }

  private transport(): Transport {
    const c = this.config;
    if (c.transport === 'stdio') {
      const t = new StdioClientTransport({ command: c.command, args: c.args, env: c.env, ...(c.cwd ? { cwd: c.cwd } : {}), stderr: 'pipe' });
      // Kept for error messages: why a server would not start or why it died.
      t.stderr?.on('data', (b: Buffer) => {
        this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      return t;
    }
    // A server that dies mid-call fails the call at once instead of at its timeout (see brokenStreamFetch).
    return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers }, fetch: brokenStreamFetch() });
  }

  private callError(err: unknown, what: string, timeout: number): McpToolError {
    if (err instanceof McpToolError) return err;
    if (err instanceof McpError) {
      if (err.code === ErrorCode.RequestTimeout) {
        return new McpToolError('timeout', `MCP server "${this.name}" did not answer ${what} within ${timeout} ms`, true, { cause: err });
      }
      if (err.code === ErrorCode.ConnectionClosed) {
        return new McpToolError('unavailable', `MCP server "${this.name}" closed the connection during ${what} (it may have crashed)${this.stderrSuffix()}`, true, { cause: err });
      }
      if (err.code === ErrorCode.MethodNotFound || err.code === ErrorCode.InvalidParams || err.code === ErrorCode.InvalidRequest) {
        return new McpToolError('tool_error', `MCP server "${this.name}" refused ${what}: ${err.message}`, false, { cause: err });
      }
      return new McpToolError('tool_error', `MCP server "${this.name}" answered ${what} with an error: ${err.message}`, false, { cause: err });
    }
    // Transport failures (a write to a dead process, a refused HTTP connection).
    return new McpToolError('unavailable', `MCP server "${this.name}" failed during ${what}: ${describe(err)}${this.stderrSuffix()}`, true, { cause: err });
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return tail ? ` (stderr: ${tail.slice(-500)})` : '';
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code && typeof e.code === 'string') return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(err);
}

function contentText(result: CallToolResult): string {
  return (result.content ?? [])
    .map((c) => (c.type === 'text' ? c.text : ''))
    .filter(Boolean)
    .join('\n')
    .slice(0, 2000);
}

function stepResult(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.length > 0 && content.every((c) => c.type === 'text')) {
    const text = content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    const t = text.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.parse(t);
      } catch {
        return text;
      }
    }
    return text;
  }
  return { content };
}
