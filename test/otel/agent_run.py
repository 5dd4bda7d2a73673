"""An instrumented agent run, as a separate process: the OpenTelemetry Python SDK with its OTLP/HTTP
exporter (protobuf, or the JSON one), configured the way docs/OTEL.md says, by the standard
environment variables (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
OTEL_EXPORTER_OTLP_TRACES_COMPRESSION). It emits the same run as test/otel/agent-run.cjs (the spans
an agent framework and an MCP client instrumentation make, following the GenAI semantic
conventions) and prints the spans it recorded (ids and times) as one JSON array.

    python test/otel/agent_run.py <protobuf|json> <conversation id>
"""

import json
import sys
import time

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode


class CountingExporter(SpanExporter):
    """Keeps each export's outcome, so that a refused export fails the run instead of passing unseen."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.results: list = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def child(tracer, parent, name, kind, attributes, during=None):
    span = tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
    time.sleep(0.003)  # durations the millisecond can tell apart
    if during:
        during(span)
    span.end()


def main() -> None:
    encoding, conv = sys.argv[1], sys.argv[2]
    if encoding == "protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
    exporter = CountingExporter(OTLPSpanExporter())  # endpoint, headers, compression: from the environment
    copy = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(copy))
    # The usual set-up, a batch processor: flushed once at the end, so one export holds the run.
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("agent-framework", "1.0.0")

    agent = tracer.start_span(
        "invoke_agent support-bot",
        kind=SpanKind.INTERNAL,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "openai",
            "gen_ai.agent.name": "support-bot",
            "gen_ai.agent.id": "asst_42",
            "gen_ai.conversation.id": conv,
            "enduser.id": "u-7",
            "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "refund order 42"}]}]),
        },
    )
    in_agent = trace.set_span_in_context(agent)
    child(tracer, in_agent, "chat gpt-4o", SpanKind.CLIENT, {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"})
    child(
        tracer,
        in_agent,
        "execute_tool orders.get",
        SpanKind.INTERNAL,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "orders.get",
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": json.dumps({"id": 42}),
            "gen_ai.tool.call.result": json.dumps({"charge": "ch_1", "amount": 1999}),
        },
    )
    child(
        tracer,
        in_agent,
        "execute_tool payments.refund",
        SpanKind.INTERNAL,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "payments.refund",
            "gen_ai.tool.call.arguments": json.dumps({"charge": "ch_1"}),
            "error.type": "PaymentError",
        },
        lambda s: s.set_status(Status(StatusCode.ERROR, "card declined")),
    )

    def server_side(client_span) -> None:
        server = tracer.start_span(
            "tools/call search_docs",
            context=trace.set_span_in_context(client_span),
            kind=SpanKind.SERVER,
            attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "search_docs"},
        )
        server.end()

    child(
        tracer,
        in_agent,
        "tools/call search_docs",
        SpanKind.CLIENT,
        {
            "mcp.method.name": "tools/call",
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "search_docs",
            "mcp.session.id": "mcp-session-1",
            "jsonrpc.request.id": "3",
            "gen_ai.tool.call.arguments": json.dumps({"query": "refund policy"}),
            "gen_ai.tool.call.result": json.dumps({"content": [{"type": "text", "text": "30 days"}], "isError": False}),
        },
        server_side,
    )
    agent.end()

    root = tracer.start_span("POST /support", kind=SpanKind.SERVER, attributes={"http.request.method": "POST"})
    in_root = trace.set_span_in_context(root)
    child(
        tracer,
        in_root,
        "chat gpt-4o",
        SpanKind.CLIENT,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": json.dumps([{"role": "system", "content": "be brief"}, {"role": "user", "content": "where is my parcel?"}]),
        },
    )
    child(tracer, in_root, "execute_tool shipping.track", SpanKind.INTERNAL, {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "shipping.track"})
    root.end()

    provider.force_flush()
    finished = copy.get_finished_spans()
    provider.shutdown()
    if not exporter.results or any(r != SpanExportResult.SUCCESS for r in exporter.results):
        sys.exit(f"export failed: {exporter.results}")
    spans = [
        {
            "traceId": format(s.context.trace_id, "032x"),
            "spanId": format(s.context.span_id, "016x"),
            "name": s.name,
            "kind": s.kind.value,
            "startNs": str(s.start_time),
            "durationNs": str(s.end_time - s.start_time),
        }
        for s in finished
    ]
    print(json.dumps(spans))


if __name__ == "__main__":
    main()
