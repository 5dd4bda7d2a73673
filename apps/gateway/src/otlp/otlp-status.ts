import { toErrorBody } from '@toolpath/platform';
import { encodeStatusProtobuf } from '@toolpath/otlp-mapping';

/**
 * OTLP/HTTP error answers (https://opentelemetry.io/docs/specs/otlp/#failures-1): the HTTP status,
 * and a `google.rpc.Status` body in the request's encoding (protobuf for a protobuf client, JSON
 * otherwise). 429, 502, 503 and 504 are the ones OTLP clients retry.
 */
export class OtlpHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** Seconds before a retry (503). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'OtlpHttpError';
  }
}

/** google.rpc.Code of an HTTP status, as gRPC maps them. */
export function rpcCodeOf(status: number): number {
  switch (status) {
    case 400:
    case 415:
      return 3; // INVALID_ARGUMENT
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 5; // NOT_FOUND
    case 405:
      return 12; // UNIMPLEMENTED
    case 413:
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 503:
      return 14; // UNAVAILABLE
    case 504:
      return 4; // DEADLINE_EXCEEDED
    default:
      return status >= 500 ? 13 : 2; // INTERNAL, UNKNOWN
  }
}

export type OtlpEncoding = 'protobuf' | 'json';

export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';
export const JSON_CONTENT_TYPE = 'application/json';

/** The encoding a Content-Type names (parameters such as charset aside), or undefined for others. */
export function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === PROTOBUF_CONTENT_TYPE) return 'protobuf';
  if (type === JSON_CONTENT_TYPE) return 'json';
  return undefined;
}

/** The Status body of an error, with its content type. */
export function statusBody(statusCode: number, message: string, encoding: OtlpEncoding | undefined): { contentType: string; body: Buffer | string } {
  const code = rpcCodeOf(statusCode);
  if (encoding === 'protobuf') return { contentType: PROTOBUF_CONTENT_TYPE, body: Buffer.from(encodeStatusProtobuf(code, message)) };
  return { contentType: JSON_CONTENT_TYPE, body: JSON.stringify({ code, message, details: [] }) };
}

/**
 * The body the platform's exception filter sends for /v1/traces (another method than POST, say):
 * the JSON Status, with the `statusCode` the filter reads.
 */
export function toOtlpJsonStatus(exception: unknown): { statusCode: number; code: number; message: string; details: [] } {
  const { statusCode, message } = toErrorBody(exception);
  return { statusCode, code: rpcCodeOf(statusCode), message, details: [] };
}
