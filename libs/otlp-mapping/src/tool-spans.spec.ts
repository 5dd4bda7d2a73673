import { decodeTraceRequestJson } from './otlp-json';
import { decodeTraceRequestProtobuf, encodeTraceRequestProtobuf } from './otlp-protobuf';
import { MalformedExportError, SpanKind, StatusCode, type OtlpSpan } from './otlp-span';
import { mapToolSpans, spanEventId } from './tool-spans';

const TRACE = 'a'.repeat(32);
const span = (id: number, over: Partial<OtlpSpan> = {}, attributes: Record<string, unknown> = {}): OtlpSpan => ({
  traceId: TRACE,
  spanId: id.toString(16).padStart(16, '0'),
  parentSpanId: '',
  name: 'execute_tool',
  kind: SpanKind.Internal,
  startTimeUnixNano: '1795000000000000000',
  endTimeUnixNano: '1795000000012345678',
  attributes: { 'gen_ai.operation.name': 'execute_tool', ...attributes },
  status: { code: StatusCode.Unset, message: '' },
  events: [],
  resource: {},
  ...over,
});

describe('mapToolSpans', () => {
  it('maps an execute_tool span: tool, times, arguments and result parsed, session = trace id without a conversation', () => {
    const { events, rejected, ignored } = mapToolSpans([span(1, {}, { 'gen_ai.tool.name': 'kb.search', 'gen_ai.tool.call.arguments': '{"q":"x"}', 'gen_ai.tool.call.result': '[1,2]' })]);
    expect(rejected).toEqual([]);
    expect(ignored).toBe(0);
    expect(events[0].event).toEqual({
      kind: 'tool_call',
      eventId: spanEventId(TRACE, '0000000000000001'),
      sessionId: TRACE,
      tool: 'kb.search',
      success: true,
      startedAt: 1_795_000_000_000,
      durationMs: 12.345678,
      source: 'otlp',
      parameters: { q: 'x' },
      result: [1, 2],
    });
  });

  it('keeps arguments that are not an object under `arguments`, and plain text results as text', () => {
    const { events } = mapToolSpans([
      span(1, { name: 'execute_tool calc' }, { 'gen_ai.tool.call.arguments': '[1, 2]', 'gen_ai.tool.call.result': 'four' }),
      span(2, { name: 'execute_tool echo' }, { 'gen_ai.tool.call.arguments': 'not json {' }),
    ]);
    expect(events.map((e) => [e.event.tool, e.event.parameters, e.event.result])).toEqual([
      ['calc', { arguments: [1, 2] }, 'four'],
      ['echo', { arguments: 'not json {' }, undefined],
    ]);
  });

  it('takes conversation, agent, user and intent from the enclosing invoke_agent span', () => {
    const agent = span(1, { name: 'invoke_agent a' }, {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.conversation.id': 'c-1',
      'gen_ai.agent.id': 'asst_1',
      'user.id': 'u-1',
      'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text', content: 'book a flight' }] }],
    });
    const tool = span(2, { parentSpanId: agent.spanId, name: 'execute_tool flights.search' });
    const { events, ignored } = mapToolSpans([tool, agent]);
    expect(ignored).toBe(1);
    expect(events[0].event).toMatchObject({ sessionId: 'c-1', agentId: 'asst_1', userId: 'u-1', intent: 'book a flight' });
  });

  it('falls back on the first user message of the trace (the older span event too), and enduser.id of the resource', () => {
    const chat = span(1, { name: 'chat', startTimeUnixNano: '1794999999000000000', events: [{ name: 'gen_ai.user.message', attributes: { content: 'hello there' } }], resource: { 'enduser.id': 'svc-user' } }, { 'gen_ai.operation.name': 'chat' });
    const tool = span(2, { name: 'execute_tool t', resource: { 'enduser.id': 'svc-user' } });
    expect(mapToolSpans([chat, tool]).events[0].event).toMatchObject({ intent: 'hello there', userId: 'svc-user' });
  });

  it('records failures from the status and error.type, with the exception message when the status has none', () => {
    const { events } = mapToolSpans([
      span(1, { name: 'execute_tool a', status: { code: StatusCode.Error, message: '' }, events: [{ name: 'exception', attributes: { 'exception.message': 'boom' } }] }),
      span(2, { name: 'execute_tool b' }, { 'error.type': 'tool_error' }),
      span(3, { name: 'execute_tool c', status: { code: StatusCode.Error, message: '' } }),
    ]);
    expect(events.map((e) => [e.event.success, e.event.error])).toEqual([
      [false, 'boom'],
      [false, 'tool_error'],
      [false, 'the span ended with status ERROR'],
    ]);
  });

  it('maps MCP client tools/call spans, ignores their server side and a tool span nested in another', () => {
    const client = span(1, { name: 'tools/call fs.read', kind: SpanKind.Client }, { 'gen_ai.operation.name': undefined, 'mcp.method.name': 'tools/call' });
    const server = span(2, { name: 'tools/call fs.read', kind: SpanKind.Server, parentSpanId: client.spanId }, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'fs.read' });
    const outer = span(3, { name: 'execute_tool lookup' });
    const inner = span(4, { name: 'tools/call lookup', kind: SpanKind.Client, parentSpanId: outer.spanId }, { 'mcp.method.name': 'tools/call' });
    const list = span(5, { name: 'tools/list', kind: SpanKind.Client }, { 'gen_ai.operation.name': undefined, 'mcp.method.name': 'tools/list' });
    const { events, ignored } = mapToolSpans([client, server, outer, inner, list]);
    expect(events.map((e) => e.event.tool)).toEqual(['fs.read', 'lookup']);
    expect(ignored).toBe(3);
  });

  it('refuses, with the reason, a tool span it cannot make an event of', () => {
    const { events, rejected } = mapToolSpans([
      span(1, { name: 'execute_tool' }),
      span(2, { name: 'execute_tool x', traceId: '00'.repeat(16) }),
      span(3, { name: 'execute_tool x', startTimeUnixNano: '0' }),
      span(4, { name: 'execute_tool x', endTimeUnixNano: '0' }),
      span(5, { name: 'execute_tool x', endTimeUnixNano: '1' }),
      span(6, { name: `execute_tool ${'t'.repeat(201)}` }),
      span(7, { name: 'execute_tool x' }, { 'gen_ai.conversation.id': 'c'.repeat(257) }),
    ]);
    expect(events).toEqual([]);
    expect(rejected.map((r) => r.reason)).toEqual([
      expect.stringContaining('no tool name'),
      'traceId must be 16 bytes, not all zero',
      'startTimeUnixNano is missing',
      'endTimeUnixNano is missing',
      'endTimeUnixNano is before startTimeUnixNano',
      'gen_ai.tool.name is over 200 characters',
      'gen_ai.conversation.id is over 256 characters',
    ]);
  });
});

describe('decoders', () => {
  const attr = (key: string, value: Record<string, unknown>) => ({ key, value });
  it('read protobuf and JSON alike (ids in hex, int64 numbers, key-value lists as objects)', () => {
    const values = [attr('i', { intValue: 7 }), attr('big', { intValue: '9223372036854775807' }), attr('kv', { kvlistValue: { values: [attr('__proto__', { boolValue: true })] } }), attr('d', { doubleValue: 1.5 })];
    const proto = decodeTraceRequestProtobuf(
      encodeTraceRequestProtobuf({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.from(TRACE, 'hex'), spanId: Buffer.from('0102030405060708', 'hex'), name: 'n', startTimeUnixNano: '5', attributes: values }] }] }] }),
    );
    const json = decodeTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE.toUpperCase(), spanId: '0102030405060708', name: 'n', startTimeUnixNano: 5, attributes: values }] }] }] });
    for (const decoded of [proto, json]) {
      const s = decoded.spans[0];
      expect(s).toMatchObject({ traceId: TRACE, spanId: '0102030405060708', parentSpanId: '', startTimeUnixNano: '5', endTimeUnixNano: '0' });
      expect(s.attributes).toEqual({ i: 7, big: '9223372036854775807', kv: JSON.parse('{"__proto__": true}'), d: 1.5 });
      expect(Object.getPrototypeOf(s.attributes.kv)).toBe(Object.prototype);
    }
  });

  it('refuse a request that is not an export, and only the span that cannot be read', () => {
    expect(() => decodeTraceRequestProtobuf(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(MalformedExportError);
    expect(() => decodeTraceRequestJson([])).toThrow(MalformedExportError);
    expect(() => decodeTraceRequestJson({ resourceSpans: [{ scopeSpans: 3 }] })).toThrow('resourceSpans[0].scopeSpans must be an array');
    let deep: Record<string, unknown> = { stringValue: 'x' };
    for (let i = 0; i < 100; i++) deep = { arrayValue: { values: [deep] } };
    const decoded = decodeTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ spanId: 'zz' }, { attributes: [{ key: 'a', value: deep }] }, { name: 'ok' }] }] }] });
    expect(decoded.spans.map((s) => s.name)).toEqual(['ok']);
    expect(decoded.unreadable.map((u) => u.reason)).toEqual([
      'resourceSpans[0].scopeSpans[0].spans[0].spanId must be a hex string',
      expect.stringContaining('nested deeper than 64 levels'),
    ]);
  });
});
