import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** What an agent-run client (test/otel) says it recorded of each span. */
export interface RecordedSpan {
  traceId: string;
  spanId: string;
  name: string;
  /** The SDK's SpanKind: the JavaScript SDK counts from INTERNAL = 0, Python's names are mapped to it. */
  kind: number;
  startNs: string;
  durationNs: string;
}

/** An event the gateway should store for a tool span. */
export interface ExpectedEvent {
  eventId: string;
  sessionId: string;
  tool: string;
  success: boolean;
  startedAt: string;
  durationMs: number;
  source: 'otlp';
  parameters?: Record<string, unknown>;
  result?: unknown;
  error?: string;
  agentId?: string;
  userId?: string;
  intent?: string;
}

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const OTEL_CLIENTS_DIR = join(REPO_ROOT, 'test', 'otel');

/**
 * Runs a client process (`command args...`) that emits the agent run of test/otel and prints the
 * spans it recorded as a JSON array on its last line; rejects with its stderr when it fails.
 */
export function runAgentClient(command: string, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<RecordedSpan[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_SDK_DISABLED: 'false', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${err.slice(-4000)}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as RecordedSpan[]);
      } catch {
        reject(new Error(`no span list on the last line of ${command}'s output: ${out.slice(-2000)} ${err.slice(-2000)}`));
      }
    });
  });
}

/** The JavaScript SDK client (test/otel/agent-run.cjs). */
export function runJsAgent(url: string, key: string, encoding: 'protobuf' | 'json', compression: 'gzip' | 'none', conv: string, resend = false): Promise<RecordedSpan[]> {
  return runAgentClient(process.execPath, [join(OTEL_CLIENTS_DIR, 'agent-run.cjs'), url, key, encoding, compression, conv, ...(resend ? ['resend'] : [])]);
}

/** What each tool span of the run should become, from the client's record of it. */
export function expectedEvents(spans: RecordedSpan[], conv: string): ExpectedEvent[] {
  const CLIENT = 2;
  const byName = (name: string, kind?: number) => {
    const found = spans.find((s) => s.name === name && (kind === undefined || s.kind === kind));
    if (!found) throw new Error(`the client recorded no span "${name}"`);
    return found;
  };
  const base = (s: RecordedSpan) => ({
    eventId: `otlp-${s.traceId}-${s.spanId}`,
    startedAt: new Date(Number(BigInt(s.startNs) / 1_000_000n)).toISOString(),
    durationMs: Number(s.durationNs) / 1e6,
    source: 'otlp' as const,
  });
  const agent = { sessionId: conv, agentId: 'support-bot', userId: 'u-7', intent: 'refund order 42' };
  const second = byName('execute_tool shipping.track');
  return [
    { ...base(byName('execute_tool orders.get')), ...agent, tool: 'orders.get', success: true, parameters: { id: 42 }, result: { charge: 'ch_1', amount: 1999 } },
    { ...base(byName('execute_tool payments.refund')), ...agent, tool: 'payments.refund', success: false, parameters: { charge: 'ch_1' }, error: 'PaymentError: card declined' },
    {
      ...base(byName('tools/call search_docs', CLIENT)),
      ...agent,
      tool: 'search_docs',
      success: true,
      parameters: { query: 'refund policy' },
      result: { content: [{ type: 'text', text: '30 days' }], isError: false },
    },
    { ...base(second), sessionId: second.traceId, tool: 'shipping.track', success: true, intent: 'where is my parcel?' },
  ];
}

/**
 * The Python SDK client (test/otel/agent_run.py), configured by the standard environment variables
 * as docs/OTEL.md shows, in sdk/python's venv (made by sdk/python/ensure-venv.sh, which the test
 * runs first).
 */
export function runPythonAgent(endpoint: string, key: string, encoding: 'protobuf' | 'json', compression: 'gzip' | 'none', conv: string): Promise<RecordedSpan[]> {
  const python = join(REPO_ROOT, 'sdk', 'python', '.venv', 'bin', 'python');
  return runAgentClient(python, [join(OTEL_CLIENTS_DIR, 'agent_run.py'), encoding, conv], 60_000, {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: `Authorization=Bearer%20${key}`,
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: compression,
  });
}
