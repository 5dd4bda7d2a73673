import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness } from './gateway-harness';
import { expectedEvents, REPO_ROOT, runPythonAgent } from './otlp-agent-spans';

// The OpenTelemetry Python SDK (PyPI) sending an agent run to /v1/traces, configured by the
// standard environment variables exactly as docs/OTEL.md says; the stored events compared field by field.
const ctx = gatewayHarness('otlppy');

beforeAll(async () => {
  // sdk/python's venv with the SDK and its exporters (pyproject.toml's test extra); a no-op once made.
  await promisify(execFile)('bash', [join(REPO_ROOT, 'sdk', 'python', 'ensure-venv.sh')], { timeout: 300_000 });
  await ctx.connect();
  await ctx.startGateway();
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
}, 360_000);

afterAll(() => ctx.teardown());

it.each([
  ['protobuf', 'none'],
  ['protobuf', 'gzip'],
  ['json', 'none'],
  ['json', 'gzip'],
] as const)('stores the tool spans of an agent run sent by the Python SDK as %s (compression %s), field by field', async (encoding, compression) => {
  const conv = `conv-py-${encoding}-${compression}`;
  const spans = await runPythonAgent(`${ctx.base}/v1/traces`, ctx.keyA, encoding, compression, conv);
  const expected = expectedEvents(spans, conv);
  for (const sessionId of new Set(expected.map((e) => e.sessionId))) {
    const want = expected.filter((e) => e.sessionId === sessionId);
    const stored: any[] = await waitFor(
      async () => {
        const r = await ctx.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
        return r.status === 200 && r.body.events.length >= want.length ? r.body.events : undefined;
      },
      { what: `${want.length} events of session ${sessionId}`, timeoutMs: 20_000 },
    );
    expect(stored).toHaveLength(want.length);
    for (const w of want) {
      const { receivedAt, streamSeq, ...rest } = stored.find((s) => s.eventId === w.eventId) ?? {};
      expect(typeof receivedAt).toBe('string');
      expect(typeof streamSeq).toBe('number');
      expect(rest).toEqual({ specVersion: '1', tenantId: 'acme', kind: 'tool_call', ...w });
    }
  }
});
