import { defineValue, MAX_ATTRIBUTE_DEPTH, MalformedExportError, UnreadableSpanError as UnreadableField, type DecodedTraceRequest, type OtlpSpan, type OtlpSpanEvent, type UnreadableSpan } from './otlp-span';

/**
 * Reads an `ExportTraceServiceRequest` in the OTLP/JSON encoding (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
 * lowerCamelCase keys, trace and span ids as hex, int64 as strings or numbers, enums as integers
 * (their names are taken too), unknown fields ignored. The envelope (resourceSpans, scopeSpans,
 * spans being lists) must hold or the whole request is malformed; a span that cannot be read is
 * listed in `unreadable` and the others go on.
 */
export function decodeTraceRequestJson(body: unknown): DecodedTraceRequest {
  if (!isObject(body)) throw new MalformedExportError('the body must be a JSON object (an ExportTraceServiceRequest)');
  const spans: OtlpSpan[] = [];
  const unreadable: UnreadableSpan[] = [];
  const resourceSpans = listAt(body, 'resourceSpans', 'resourceSpans');
  resourceSpans.forEach((rs, i) => {
    const where = `resourceSpans[${i}]`;
    if (!isObject(rs)) throw new MalformedExportError(`${where} must be an object`);
    const resource = isObject(rs.resource) && rs.resource.attributes !== undefined ? attributesAt(rs.resource.attributes, `${where}.resource.attributes`) : {};
    listAt(rs, 'scopeSpans', `${where}.scopeSpans`).forEach((ss, j) => {
      if (!isObject(ss)) throw new MalformedExportError(`${where}.scopeSpans[${j}] must be an object`);
      listAt(ss, 'spans', `${where}.scopeSpans[${j}].spans`).forEach((s, k) => {
        const path = `${where}.scopeSpans[${j}].spans[${k}]`;
        try {
          spans.push(spanAt(s, path, resource));
        } catch (err) {
          if (!(err instanceof UnreadableField)) throw err;
          unreadable.push({ path, reason: err.message });
        }
      });
    });
  });
  return { spans, unreadable };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listAt(obj: Record<string, unknown>, key: string, path: string): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MalformedExportError(`${path} must be an array`);
  return v;
}

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function spanAt(s: unknown, path: string, resource: Record<string, unknown>): OtlpSpan {
  if (!isObject(s)) throw new UnreadableField(`${path} must be an object`);
  const status = s.status === undefined || s.status === null ? {} : s.status;
  if (!isObject(status)) throw new UnreadableField(`${path}.status must be an object`);
  const events = s.events === undefined || s.events === null ? [] : s.events;
  if (!Array.isArray(events)) throw new UnreadableField(`${path}.events must be an array`);
  return {
    traceId: idAt(s.traceId, `${path}.traceId`),
    spanId: idAt(s.spanId, `${path}.spanId`),
    parentSpanId: idAt(s.parentSpanId, `${path}.parentSpanId`),
    name: stringAt(s.name, `${path}.name`),
    kind: enumAt(s.kind, SPAN_KINDS, `${path}.kind`),
    startTimeUnixNano: nanosAt(s.startTimeUnixNano, `${path}.startTimeUnixNano`),
    endTimeUnixNano: nanosAt(s.endTimeUnixNano, `${path}.endTimeUnixNano`),
    attributes: s.attributes === undefined ? {} : attributesAt(s.attributes, `${path}.attributes`, UnreadableField),
    status: { code: enumAt(status.code, STATUS_CODES, `${path}.status.code`), message: stringAt(status.message, `${path}.status.message`) },
    events: events.map((e, i): OtlpSpanEvent => {
      if (!isObject(e)) throw new UnreadableField(`${path}.events[${i}] must be an object`);
      return { name: stringAt(e.name, `${path}.events[${i}].name`), attributes: e.attributes === undefined ? {} : attributesAt(e.attributes, `${path}.events[${i}].attributes`, UnreadableField) };
    }),
    resource,
  };
}

/** Hex as sent, lowercased; the mapping checks lengths (a span that is not a tool call may have none). */
function idAt(v: unknown, path: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v)) throw new UnreadableField(`${path} must be a hex string`);
  return v.toLowerCase();
}

function stringAt(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new UnreadableField(`${path} must be a string`);
  return v;
}

function enumAt(v: unknown, names: Record<string, number>, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in names) return names[v];
  throw new UnreadableField(`${path} must be an integer or one of ${Object.keys(names).join(', ')}`);
}

/** fixed64 nanoseconds: a decimal string or a number. */
function nanosAt(v: unknown, path: string): string {
  if (v === undefined || v === null) return '0';
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v).toString();
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v).toString();
  throw new UnreadableField(`${path} must be unsigned nanoseconds (a decimal string or an integer)`);
}

type Fault = new (message: string) => Error;

function attributesAt(v: unknown, path: string, fault: Fault = MalformedExportError, depth = 0): Record<string, unknown> {
  if (!Array.isArray(v)) throw new fault(`${path} must be an array of { key, value }`);
  const out: Record<string, unknown> = {};
  v.forEach((kv, i) => {
    if (!isObject(kv) || typeof kv.key !== 'string') throw new fault(`${path}[${i}] must be { key: string, value }`);
    defineValue(out, kv.key, anyValueAt(kv.value, `${path}[${i}].value`, fault, depth + 1));
  });
  return out;
}

/** An AnyValue as a plain value (see OtlpSpan); one of its fields, or none (null). */
function anyValueAt(v: unknown, path: string, fault: Fault, depth: number): unknown {
  if (v === undefined || v === null) return null;
  if (depth > MAX_ATTRIBUTE_DEPTH) throw new fault(`${path} is nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
  if (!isObject(v)) throw new fault(`${path} must be an AnyValue object`);
  if (v.stringValue !== undefined) {
    if (typeof v.stringValue !== 'string') throw new fault(`${path}.stringValue must be a string`);
    return v.stringValue;
  }
  if (v.boolValue !== undefined) {
    if (typeof v.boolValue !== 'boolean') throw new fault(`${path}.boolValue must be a boolean`);
    return v.boolValue;
  }
  if (v.intValue !== undefined) {
    if (typeof v.intValue === 'number' && Number.isInteger(v.intValue)) return v.intValue;
    if (typeof v.intValue === 'string' && /^-?\d{1,19}$/.test(v.intValue)) {
      const n = Number(v.intValue);
      return Number.isSafeInteger(n) ? n : BigInt(v.intValue).toString();
    }
    throw new fault(`${path}.intValue must be an integer or its decimal string`);
  }
  if (v.doubleValue !== undefined) {
    if (typeof v.doubleValue === 'number') return v.doubleValue;
    // proto3 JSON writes the non-finite doubles as strings; JSON cannot store them, so they become null.
    if (v.doubleValue === 'NaN' || v.doubleValue === 'Infinity' || v.doubleValue === '-Infinity') return null;
    if (typeof v.doubleValue === 'string' && v.doubleValue.trim() !== '' && Number.isFinite(Number(v.doubleValue))) return Number(v.doubleValue);
    throw new fault(`${path}.doubleValue must be a number`);
  }
  if (v.arrayValue !== undefined) {
    const values = isObject(v.arrayValue) ? (v.arrayValue.values ?? []) : undefined;
    if (!Array.isArray(values)) throw new fault(`${path}.arrayValue must be { values: [...] }`);
    return values.map((item, i) => anyValueAt(item, `${path}.arrayValue.values[${i}]`, fault, depth + 1));
  }
  if (v.kvlistValue !== undefined) {
    const values = isObject(v.kvlistValue) ? (v.kvlistValue.values ?? []) : undefined;
    if (!Array.isArray(values)) throw new fault(`${path}.kvlistValue must be { values: [...] }`);
    return attributesAt(values, `${path}.kvlistValue.values`, fault, depth);
  }
  if (v.bytesValue !== undefined) {
    if (typeof v.bytesValue !== 'string') throw new fault(`${path}.bytesValue must be a base64 string`);
    return v.bytesValue;
  }
  return null;
}
