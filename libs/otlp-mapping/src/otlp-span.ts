/**
 * A span of an OTLP trace export, the same whichever encoding it came in (protobuf or JSON):
 * ids as lowercase hex, times as decimal nanoseconds since the epoch, attribute values as plain
 * JSON values (a key-value list is an object, an array an array, bytes base64, an int64 that does
 * not fit a double a decimal string).
 */
export interface OtlpSpan {
  /** 32 hex digits when valid; anything else is passed on as sent (the mapping refuses it). */
  traceId: string;
  /** 16 hex digits when valid. */
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** Decimal nanoseconds since the epoch ('0' when missing). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  /** Status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  events: OtlpSpanEvent[];
  /** The attributes of the resource that emitted the span (service.name, ...). */
  resource: Record<string, unknown>;
}

export interface OtlpSpanEvent {
  name: string;
  attributes: Record<string, unknown>;
}

export const SpanKind = { Unspecified: 0, Internal: 1, Server: 2, Client: 3, Producer: 4, Consumer: 5 } as const;
export const StatusCode = { Unset: 0, Ok: 1, Error: 2 } as const;

/** A span of the export that could not even be read (JSON only: protobuf fails as a whole). */
export interface UnreadableSpan {
  /** Where it was: resourceSpans[i].scopeSpans[j].spans[k]. */
  path: string;
  reason: string;
}

/** What a decoder makes of one export request. */
export interface DecodedTraceRequest {
  spans: OtlpSpan[];
  unreadable: UnreadableSpan[];
}

/** A span field that is not what OTLP says: that span is refused, not the request. */
export class UnreadableSpanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableSpanError';
  }
}

/** Deepest nesting of attribute values read (the event contract's limit: deeper ones it refuses anyway). */
export const MAX_ATTRIBUTE_DEPTH = 64;

/** The request as a whole is not an OTLP trace export (answered 400, nothing of it kept). */
export class MalformedExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedExportError';
  }
}

/** Sets an own data property whatever the key (`__proto__` included): attribute keys are data. */
export function defineValue(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
