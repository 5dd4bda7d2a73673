export * from './otlp-span';
export { decodeTraceRequestProtobuf, encodeTraceResponseProtobuf, encodeStatusProtobuf, decodeStatusProtobuf, decodeTraceResponseProtobuf, encodeTraceRequestProtobuf, OTLP_PROTO_DIR } from './otlp-protobuf';
export { decodeTraceRequestJson } from './otlp-json';
export { mapToolSpans, isToolSpan, spanEventId, GenAi, EXECUTE_TOOL, INVOKE_AGENT, MCP_TOOLS_CALL, OTLP_SOURCE } from './tool-spans';
export type { MappedSpans, RejectedSpan, SpanEvent } from './tool-spans';
export { firstUserText } from './user-message';
