import { gzipSync } from 'node:zlib';
import { decodeStatusProtobuf, decodeTraceResponseProtobuf, encodeTraceRequestProtobuf } from '@toolpath/otlp-mapping';
import { waitFor } from '@toolpath/testing';
import { gatewayHarness, KEY_B } from './gateway-harness';
import { expectedEvents, runJsAgent, type RecordedSpan } from './otlp-agent-spans';

const ctx = gatewayHarness('otlp');
const call = ctx.call;
const BODY_LIMIT = 16 * 1024 * 1024;

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
}, 90_000);

afterAll(() => ctx.teardown());

const tracesUrl = () => `${ctx.base}/v1/traces`;

async function storedSession(sessionId: string, count: number, key = ctx.keyA): Promise<any[]> {
  return waitFor(
    async () => {
      const r = await call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`, { key });
      return r.status === 200 && r.body.events.length >= count ? r.body.events : undefined;
    },
    { what: `${count} events of session ${sessionId}`, timeoutMs: 20_000 },
  );
}

/** The stored events compared field by field with what the SDK recorded (the recorder's receivedAt and streamSeq aside). */
async function expectStored(spans: RecordedSpan[], conv: string, tenantId = 'acme', key = ctx.keyA): Promise<void> {
  const expected = expectedEvents(spans, conv);
  const bySession = new Map<string, typeof expected>();
  for (const e of expected) bySession.set(e.sessionId, [...(bySession.get(e.sessionId) ?? []), e]);
  for (const [sessionId, events] of bySession) {
    const stored = await storedSession(sessionId, events.length, key);
    expect(stored).toHaveLength(events.length);
    for (const want of events) {
      const got = stored.find((s) => s.eventId === want.eventId);
      expect(got).toBeDefined();
      const { receivedAt, streamSeq, ...rest } = got;
      expect(typeof receivedAt).toBe('string');
      expect(typeof streamSeq).toBe('number');
      expect(rest).toEqual({ specVersion: '1', tenantId, kind: 'tool_call', ...want });
    }
  }
}

async function postTraces(body: Uint8Array | string, headers: Record<string, string>, key: string | null = ctx.keyA): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(tracesUrl(), {
    method: 'POST',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : Buffer.from(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

const json = (r: { bytes: Buffer }) => JSON.parse(r.bytes.toString('utf8'));
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
const NOW_NS = BigInt(Date.parse('2026-11-21T10:00:00.000Z')) * 1_000_000n;

/** An OTLP/JSON span (as written by hand, the encoding's own way: hex ids, nanos as strings). */
function jsonSpan(i: number, over: Record<string, unknown> = {}, attributes: Array<[string, unknown]> = []): Record<string, unknown> {
  return {
    traceId: hex(0xabc, 16),
    spanId: hex(i + 1, 8),
    name: 'execute_tool',
    kind: 1,
    startTimeUnixNano: String(NOW_NS + BigInt(i) * 1_000_000n),
    endTimeUnixNano: String(NOW_NS + BigInt(i) * 1_000_000n + 2_500_000n),
    attributes: [['gen_ai.operation.name', { stringValue: 'execute_tool' }] as [string, unknown], ...attributes].map(([key, value]) => ({ key, value })),
    ...over,
  };
}

describe('the OpenTelemetry JavaScript SDK with its OTLP/HTTP exporters (a client process)', () => {
  it.each([
    ['protobuf', 'none'],
    ['protobuf', 'gzip'],
    ['json', 'none'],
    ['json', 'gzip'],
  ] as const)('stores the tool spans of an agent run sent as %s (compression %s), field by field', async (encoding, compression) => {
    const conv = `conv-js-${encoding}-${compression}`;
    const spans = await runJsAgent(tracesUrl(), ctx.keyA, encoding, compression, conv);
    await expectStored(spans, conv);
  });

  it.each(['protobuf', 'json'] as const)('does not store an export re-sent by the %s exporter twice', async (encoding) => {
    const conv = `conv-resent-${encoding}`;
    const spans = await runJsAgent(tracesUrl(), ctx.keyA, encoding, 'none', conv, true);
    await expectStored(spans, conv);
    // A marker sent after the repeat: once it is stored, the repeat has been through the recorder too.
    const marker = await runJsAgent(tracesUrl(), ctx.keyA, encoding, 'none', `${conv}-marker`);
    await expectStored(marker, `${conv}-marker`);
    expect(await storedSession(conv, 3)).toHaveLength(3);
  });

  it('takes the tenant from the key', async () => {
    const spans = await runJsAgent(tracesUrl(), KEY_B, 'protobuf', 'none', 'conv-globex');
    await expectStored(spans, 'conv-globex', 'globex', KEY_B);
    expect((await call('GET', '/api/v1/sessions/conv-globex')).status).toBe(404);
  });
});

describe('the OTLP answer', () => {
  it('reports refused spans in partialSuccess, keeps the others, and never crashes on missing attributes', async () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand-written' } }] },
          scopeSpans: [
            {
              spans: [
                // Good: the tool from gen_ai.tool.name, structured arguments, an int64 as a string.
                jsonSpan(0, {}, [
                  ['gen_ai.tool.name', { stringValue: 'crm.lookup' }],
                  ['gen_ai.conversation.id', { stringValue: 'conv-json-raw' }],
                  ['gen_ai.tool.call.arguments', { kvlistValue: { values: [{ key: 'customer', value: { intValue: '9007199254740993' } }, { key: 'deep', value: { arrayValue: { values: [{ boolValue: true }] } } }] } }],
                ]),
                // No tool name anywhere.
                jsonSpan(1, {}, [['gen_ai.conversation.id', { stringValue: 'conv-json-raw' }]]),
                // Ends before it starts.
                jsonSpan(2, { name: 'execute_tool late', endTimeUnixNano: '1' }),
                // A span id of the wrong length.
                jsonSpan(3, { name: 'execute_tool short', spanId: 'abcd' }),
                // Not readable at all.
                jsonSpan(4, { name: 'execute_tool x', attributes: 'oops' }),
                // Not a tool call: counted and ignored.
                jsonSpan(5, { name: 'chat', attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }] }),
              ],
            },
          ],
        },
      ],
    };
    const r = await postTraces(JSON.stringify(body), JSON_CT);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    const answer = json(r);
    expect(answer.partialSuccess.rejectedSpans).toBe('4');
    expect(answer.partialSuccess.errorMessage).toContain('4 of 6 spans rejected');
    expect(answer.partialSuccess.errorMessage).toContain('no tool name');
    expect(answer.partialSuccess.errorMessage).toContain('endTimeUnixNano is before startTimeUnixNano');
    expect(answer.partialSuccess.errorMessage).toContain('spanId must be 8 bytes');
    expect(answer.partialSuccess.errorMessage).toContain('attributes must be an array');
    expect(r.headers.get('x-toolpath-otlp')).toBe('spans=6; events=1; duplicates=0; ignored=1; rejected=4');

    const [stored] = await storedSession('conv-json-raw', 1);
    expect(stored).toMatchObject({
      eventId: `otlp-${hex(0xabc, 16)}-${hex(1, 8)}`,
      tool: 'crm.lookup',
      success: true,
      durationMs: 2.5,
      startedAt: '2026-11-21T10:00:00.000Z',
      parameters: { customer: '9007199254740993', deep: [true] },
      source: 'otlp',
    });
  });

  it('answers a protobuf client in protobuf, partialSuccess included, and refuses an event over 1 MB', async () => {
    const traceId = Buffer.from(hex(0xdef, 16), 'hex');
    const span = (i: number, attributes: Array<{ key: string; value: Record<string, unknown> }>) => ({
      traceId,
      spanId: Buffer.from(hex(100 + i, 8), 'hex'),
      name: 'tools/call',
      kind: 3,
      startTimeUnixNano: String(NOW_NS),
      endTimeUnixNano: String(NOW_NS + 1_000_000n),
      attributes: [{ key: 'mcp.method.name', value: { stringValue: 'tools/call' } }, ...attributes],
      status: { code: 2, message: 'upstream timed out' },
    });
    const body = encodeTraceRequestProtobuf({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                span(0, [
                  { key: 'gen_ai.tool.name', value: { stringValue: 'fs.read' } },
                  { key: 'gen_ai.conversation.id', value: { stringValue: 'conv-proto-raw' } },
                  { key: 'error.type', value: { stringValue: 'timeout' } },
                  { key: 'gen_ai.tool.call.arguments', value: { kvlistValue: { values: [{ key: 'path', value: { stringValue: '/etc/motd' } }] } } },
                ]),
                span(1, [
                  { key: 'gen_ai.tool.name', value: { stringValue: 'fs.write' } },
                  { key: 'gen_ai.tool.call.arguments', value: { stringValue: JSON.stringify({ data: 'x'.repeat(1_200_000) }) } },
                ]),
              ],
            },
          ],
        },
      ],
    });
    const r = await postTraces(body, PROTO);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    const answer = decodeTraceResponseProtobuf(r.bytes);
    expect(answer.partialSuccess?.rejectedSpans).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(/fs\.write|over the 1048576-byte limit/);

    const [stored] = await storedSession('conv-proto-raw', 1);
    expect(stored).toMatchObject({ tool: 'fs.read', success: false, error: 'timeout: upstream timed out', parameters: { path: '/etc/motd' }, durationMs: 1 });
  });

  it('answers an export with nothing to refuse with an empty ExportTraceServiceResponse', async () => {
    const r = await postTraces(encodeTraceRequestProtobuf({ resourceSpans: [] }), PROTO);
    expect(r.status).toBe(200);
    expect(r.bytes.length).toBe(0);
    expect(decodeTraceResponseProtobuf(r.bytes)).toEqual({});
    const j = await postTraces('{}', JSON_CT);
    expect(j.status).toBe(200);
    expect(json(j)).toEqual({});
  });
});

describe('bad input', () => {
  it('refuses a wrong content type with 415 before reading the body', async () => {
    for (const type of ['text/plain', 'application/grpc']) {
      const r = await postTraces('hello', { 'content-type': type });
      expect(r.status).toBe(415);
      expect(json(r)).toMatchObject({ code: 3, details: [] });
      expect(json(r).message).toContain('application/x-protobuf or application/json');
    }
    const br = await postTraces('{}', { ...JSON_CT, 'content-encoding': 'br' });
    expect(br.status).toBe(415);
  });

  it('refuses malformed protobuf and JSON with 400, as a Status in the client encoding', async () => {
    const p = await postTraces(Buffer.from([0x0a, 0x05, 0x01, 0xff]), PROTO);
    expect(p.status).toBe(400);
    expect(p.headers.get('content-type')).toBe('application/x-protobuf');
    const status = decodeStatusProtobuf(p.bytes);
    expect(status.code).toBe(3);
    expect(status.message).toContain('not a protobuf ExportTraceServiceRequest');

    const j = await postTraces('{"resourceSpans": [', JSON_CT);
    expect(j.status).toBe(400);
    expect(json(j).message).toContain('not JSON');
    const shape = await postTraces(JSON.stringify({ resourceSpans: { not: 'a list' } }), JSON_CT);
    expect(shape.status).toBe(400);
    expect(json(shape).message).toBe('resourceSpans must be an array');

    const gz = await postTraces('not gzip at all', { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(gz.status).toBe(400);
    expect(json(gz).message).toContain('not valid gzip');
  });

  it('refuses a missing or unknown key with 401', async () => {
    expect((await postTraces('{}', JSON_CT, null)).status).toBe(401);
    const r = await postTraces(encodeTraceRequestProtobuf({}), PROTO, 'wrong-key-0123456789');
    expect(r.status).toBe(401);
    expect(decodeStatusProtobuf(r.bytes)).toEqual({ code: 16, message: 'unknown API key' });
  });

  it('answers another method with 405 in the Status shape', async () => {
    const r = await fetch(tracesUrl(), { headers: { authorization: `Bearer ${ctx.keyA}` } });
    expect(r.status).toBe(405);
    expect(await r.json()).toMatchObject({ code: 12 });
  });

  it('takes a 10 MB export, and refuses one over the limit (gzip counted inflated) with 413', async () => {
    // 10 MB: 2,400 spans of a web service (ignored) with 4 KB of attributes each, and 20 tool calls.
    const filler = 'y'.repeat(4096);
    const spans = Array.from({ length: 2420 }, (_, i) =>
      i < 20
        ? jsonSpan(i, { traceId: hex(0x10ad, 16) }, [['gen_ai.tool.name', { stringValue: `bulk.tool${i}` }], ['gen_ai.conversation.id', { stringValue: 'conv-10mb' }]])
        : jsonSpan(i, { traceId: hex(0x10ad, 16), name: 'GET /', attributes: [{ key: 'http.response.body', value: { stringValue: filler } }] }),
    );
    const big = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
    expect(big.length).toBeGreaterThan(10_000_000);
    expect(big.length).toBeLessThan(BODY_LIMIT);
    const ok = await postTraces(big, JSON_CT);
    expect(ok.status).toBe(200);
    expect(json(ok)).toEqual({});
    expect(ok.headers.get('x-toolpath-otlp')).toBe('spans=2420; events=20; duplicates=0; ignored=2400; rejected=0');
    await storedSession('conv-10mb', 20);

    const over = await postTraces(Buffer.alloc(BODY_LIMIT + 1, 0x20), PROTO);
    expect(over.status).toBe(413);
    expect(decodeStatusProtobuf(over.bytes).message).toContain(`over the ${BODY_LIMIT}-byte limit`);
    // 17 MB of spaces compress to a few KB: the limit holds for what they inflate to.
    const bomb = gzipSync(Buffer.alloc(BODY_LIMIT + 1, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    const inflated = await postTraces(bomb, { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(inflated.status).toBe(413);
    expect(json(inflated).code).toBe(8);
  }, 60_000);
});
