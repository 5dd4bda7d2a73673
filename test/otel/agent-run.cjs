#!/usr/bin/env node
/*
 * An instrumented agent run, as a separate process: the OpenTelemetry JavaScript SDK with its
 * OTLP/HTTP exporter (protobuf or JSON, gzip or not) sends the spans an agent framework and an MCP
 * client instrumentation emit, following the GenAI semantic conventions. It prints the spans the
 * SDK recorded (ids and times) as one JSON array, for the test to know what to expect.
 *
 *   node test/otel/agent-run.cjs <traces url> <api key> <protobuf|json> <gzip|none> <conversation id> [resend]
 *
 * With `resend`, the finished spans are exported a second time (what a client's retry does).
 *
 * The same run as test/otel/agent_run.py (the Python SDK):
 *   invoke_agent support-bot (conversation, agent, user, input "refund order 42")
 *     chat gpt-4o                                   -> not a tool call
 *     execute_tool orders.get (arguments, result)
 *     execute_tool payments.refund (ERROR "card declined", error.type PaymentError)
 *     tools/call search_docs (MCP client span)
 *       tools/call search_docs (the MCP server's span) -> its client span records the call
 *   POST /support (another trace: no conversation, no agent)
 *     chat gpt-4o (first user message "where is my parcel?")
 *     execute_tool shipping.track
 */
'use strict';
const { context, SpanKind, SpanStatusCode, trace } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter: ProtoExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { OTLPTraceExporter: JsonExporter } = require('@opentelemetry/exporter-trace-otlp-http');

async function main() {
  const [url, key, encoding, compression, conv, resend] = process.argv.slice(2);
  if (!conv) throw new Error('usage: agent-run.cjs <traces url> <api key> <protobuf|json> <gzip|none> <conversation id>');
  const Exporter = encoding === 'protobuf' ? ProtoExporter : JsonExporter;
  const exporter = new Exporter({ url, headers: { Authorization: `Bearer ${key}` }, compression, timeoutMillis: 10_000 });
  // Each export's outcome, so that a refused one fails the run instead of passing unseen.
  const results = [];
  const counted = {
    export: (spans, done) => exporter.export(spans, (r) => (results.push(r), done(r))),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  const copy = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-agent' }),
    // The usual set-up, a batch processor: flushed once at the end, so one export holds the run.
    spanProcessors: [new SimpleSpanProcessor({ exporter: copy }), new BatchSpanProcessor({ exporter: counted, scheduledDelayMillis: 60_000 })],
  });
  const tracer = provider.getTracer('agent-framework', '1.0.0');

  const agent = tracer.startSpan('invoke_agent support-bot', {
    kind: SpanKind.INTERNAL,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'openai',
      'gen_ai.agent.name': 'support-bot',
      'gen_ai.agent.id': 'asst_42',
      'gen_ai.conversation.id': conv,
      'enduser.id': 'u-7',
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'refund order 42' }] }]),
    },
  });
  const inAgent = trace.setSpan(context.active(), agent);
  await child(tracer, inAgent, 'chat gpt-4o', SpanKind.CLIENT, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' });
  await child(tracer, inAgent, 'execute_tool orders.get', SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'orders.get',
    'gen_ai.tool.type': 'function',
    'gen_ai.tool.call.id': 'call_1',
    'gen_ai.tool.call.arguments': JSON.stringify({ id: 42 }),
    'gen_ai.tool.call.result': JSON.stringify({ charge: 'ch_1', amount: 1999 }),
  });
  await child(
    tracer,
    inAgent,
    'execute_tool payments.refund',
    SpanKind.INTERNAL,
    { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'payments.refund', 'gen_ai.tool.call.arguments': JSON.stringify({ charge: 'ch_1' }), 'error.type': 'PaymentError' },
    (s) => s.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' }),
  );
  await child(
    tracer,
    inAgent,
    'tools/call search_docs',
    SpanKind.CLIENT,
    {
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search_docs',
      'mcp.session.id': 'mcp-session-1',
      'jsonrpc.request.id': '3',
      'gen_ai.tool.call.arguments': JSON.stringify({ query: 'refund policy' }),
      'gen_ai.tool.call.result': JSON.stringify({ content: [{ type: 'text', text: '30 days' }], isError: false }),
    },
    (client) => {
      const server = tracer.startSpan('tools/call search_docs', { kind: SpanKind.SERVER, attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'search_docs' } }, trace.setSpan(inAgent, client));
      server.end();
    },
  );
  agent.end();

  const root = tracer.startSpan('POST /support', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST' } });
  const inRoot = trace.setSpan(context.active(), root);
  await child(tracer, inRoot, 'chat gpt-4o', SpanKind.CLIENT, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.input.messages': JSON.stringify([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'where is my parcel?' }]),
  });
  await child(tracer, inRoot, 'execute_tool shipping.track', SpanKind.INTERNAL, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'shipping.track' });
  root.end();

  await provider.forceFlush();
  // Read before shutdown, which empties the in-memory exporter.
  const finished = copy.getFinishedSpans();
  if (resend === 'resend') await new Promise((done) => counted.export(finished, done));
  await provider.shutdown();
  const failed = results.filter((r) => r.code !== 0);
  if (results.length === 0 || failed.length > 0) throw new Error(`export failed: ${failed.map((r) => r.error && r.error.message).join('; ') || 'nothing exported'}`);
  const spans = finished.map((s) => ({
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    name: s.name,
    kind: s.kind,
    startNs: (BigInt(s.startTime[0]) * 1_000_000_000n + BigInt(s.startTime[1])).toString(),
    durationNs: (BigInt(s.duration[0]) * 1_000_000_000n + BigInt(s.duration[1])).toString(),
  }));
  process.stdout.write(JSON.stringify(spans) + '\n');
}

async function child(tracer, parent, name, kind, attributes, during) {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  // Durations the millisecond can tell apart.
  await new Promise((r) => setTimeout(r, 3));
  if (during) during(span);
  span.end();
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
