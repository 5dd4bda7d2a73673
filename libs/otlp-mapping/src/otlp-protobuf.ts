import { join } from 'node:path';
import { Root, type Message, type Type } from 'protobufjs';
import { defineValue, MAX_ATTRIBUTE_DEPTH, MalformedExportError, UnreadableSpanError, type DecodedTraceRequest, type OtlpSpan, type OtlpSpanEvent, type UnreadableSpan } from './otlp-span';

/**
 * The official definitions (opentelemetry-proto v1.11.0, and google.rpc.Status for error bodies),
 * read by protobufjs: no hand-written wire format. `proto/` sits beside `src/` and `dist/`.
 */
export const OTLP_PROTO_DIR = join(__dirname, '..', 'proto');

interface OtlpTypes {
  request: Type;
  response: Type;
  status: Type;
}

let types: OtlpTypes | undefined;

/** Loaded once, on first use (a few milliseconds). */
function otlpTypes(): OtlpTypes {
  if (!types) {
    const root = new Root();
    root.resolvePath = (_origin, target) => join(OTLP_PROTO_DIR, target);
    root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'google/rpc/status.proto']);
    root.resolveAll();
    types = {
      request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
      response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
      status: root.lookupType('google.rpc.Status'),
    };
  }
  return types;
}

/** Decodes an `ExportTraceServiceRequest` in the protobuf encoding; throws MalformedExportError. */
export function decodeTraceRequestProtobuf(body: Uint8Array): DecodedTraceRequest {
  let request: ProtoRequest;
  try {
    request = otlpTypes().request.decode(body) as unknown as ProtoRequest;
  } catch (err) {
    throw new MalformedExportError(`the body is not a protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
  }
  const spans: OtlpSpan[] = [];
  const unreadable: UnreadableSpan[] = [];
  request.resourceSpans.forEach((rs, i) => {
    let resource: Record<string, unknown>;
    try {
      resource = rs.resource ? attributesOf(rs.resource.attributes, 0) : {};
    } catch (err) {
      throw new MalformedExportError(`resourceSpans[${i}].resource: ${(err as Error).message}`);
    }
    rs.scopeSpans.forEach((ss, j) =>
      ss.spans.forEach((s, k) => {
        try {
          spans.push(spanOf(s, resource));
        } catch (err) {
          if (!(err instanceof UnreadableSpanError)) throw err;
          unreadable.push({ path: `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`, reason: err.message });
        }
      }),
    );
  });
  return { spans, unreadable };
}

/** An `ExportTraceServiceResponse`, with `partialSuccess` when spans were rejected. */
export function encodeTraceResponseProtobuf(partial?: { rejectedSpans: number; errorMessage: string }): Uint8Array {
  const { response } = otlpTypes();
  const message = response.fromObject(partial ? { partialSuccess: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage } } : {});
  return response.encode(message).finish();
}

/** A `google.rpc.Status`: the body of an OTLP/HTTP error answer to a protobuf client. */
export function encodeStatusProtobuf(code: number, message: string): Uint8Array {
  const { status } = otlpTypes();
  return status.encode(status.fromObject({ code, message })).finish();
}

/** Decodes a `google.rpc.Status` (what a client reads of an error answer; used by tests). */
export function decodeStatusProtobuf(body: Uint8Array): { code: number; message: string } {
  const { status } = otlpTypes();
  const s = status.toObject(status.decode(body), { defaults: true }) as { code: number; message: string };
  return { code: s.code, message: s.message };
}

/** Decodes an `ExportTraceServiceResponse` (used by tests and the bench). */
export function decodeTraceResponseProtobuf(body: Uint8Array): { partialSuccess?: { rejectedSpans: number; errorMessage: string } } {
  const { response } = otlpTypes();
  const r = response.toObject(response.decode(body), { longs: Number }) as { partialSuccess?: { rejectedSpans?: number; errorMessage?: string } };
  return r.partialSuccess ? { partialSuccess: { rejectedSpans: r.partialSuccess.rejectedSpans ?? 0, errorMessage: r.partialSuccess.errorMessage ?? '' } } : {};
}

/** Encodes a request from its protobufjs object form (tests and the bench build exports with it). */
export function encodeTraceRequestProtobuf(request: Record<string, unknown>): Uint8Array {
  const { request: type } = otlpTypes();
  return type.encode(type.fromObject(request)).finish();
}

// The decoded messages, as far as they are read here (protobufjs fills missing fields with defaults).
interface LongLike {
  toString(): string;
  toNumber(): number;
}
interface ProtoAnyValue extends Message {
  value?: 'stringValue' | 'boolValue' | 'intValue' | 'doubleValue' | 'arrayValue' | 'kvlistValue' | 'bytesValue';
  stringValue: string;
  boolValue: boolean;
  intValue: LongLike | number;
  doubleValue: number;
  arrayValue: { values: ProtoAnyValue[] };
  kvlistValue: { values: ProtoKeyValue[] };
  bytesValue: Uint8Array;
}
interface ProtoKeyValue {
  key: string;
  value?: ProtoAnyValue | null;
}
interface ProtoSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: LongLike | number;
  endTimeUnixNano: LongLike | number;
  attributes: ProtoKeyValue[];
  events: Array<{ name: string; attributes: ProtoKeyValue[] }>;
  status?: { code: number; message: string } | null;
}
interface ProtoRequest {
  resourceSpans: Array<{ resource?: { attributes: ProtoKeyValue[] } | null; scopeSpans: Array<{ spans: ProtoSpan[] }> }>;
}

function spanOf(s: ProtoSpan, resource: Record<string, unknown>): OtlpSpan {
  return {
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: String(s.startTimeUnixNano),
    endTimeUnixNano: String(s.endTimeUnixNano),
    attributes: attributesOf(s.attributes, 0),
    status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
    events: s.events.map((e): OtlpSpanEvent => ({ name: e.name, attributes: attributesOf(e.attributes, 0) })),
    resource,
  };
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex') : '';
}

function attributesOf(list: ProtoKeyValue[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) defineValue(out, kv.key, valueOf(kv.value, depth + 1));
  return out;
}

function valueOf(v: ProtoAnyValue | null | undefined, depth: number): unknown {
  if (depth > MAX_ATTRIBUTE_DEPTH) throw new UnreadableSpanError(`an attribute value is nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
  switch (v?.value) {
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'intValue':
      return intOf(v.intValue);
    case 'doubleValue':
      return v.doubleValue;
    case 'arrayValue':
      return v.arrayValue.values.map((item) => valueOf(item, depth + 1));
    case 'kvlistValue':
      return attributesOf(v.kvlistValue.values, depth);
    case 'bytesValue':
      return Buffer.from(v.bytesValue).toString('base64');
    default:
      return null;
  }
}

/** An int64 as a number when a double holds it exactly, else as its decimal string. */
function intOf(v: LongLike | number): number | string {
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : v.toString();
}
