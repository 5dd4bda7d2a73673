import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MalformedExportError, decodeTraceRequestJson, decodeTraceRequestProtobuf, encodeTraceResponseProtobuf, type DecodedTraceRequest } from '@toolpath/otlp-mapping';
import { ApiKeys } from '../auth/api-keys';
import type { GatewayConfig } from '../gateway.config';
import { OtlpIngestService, rejectionMessage, type OtlpIngestResult } from './otlp-ingest.service';
import { encodingOf, JSON_CONTENT_TYPE, OtlpHttpError, PROTOBUF_CONTENT_TYPE, statusBody, type OtlpEncoding } from './otlp-status';

/** Where OTLP/HTTP exporters send traces: `<endpoint>/v1/traces`, outside the API prefix. */
export const OTLP_TRACES_PATH = '/v1/traces';

declare module 'fastify' {
  interface FastifyRequest {
    otlpTenantId?: string;
  }
}

/**
 * `POST /v1/traces` (OTLP/HTTP, https://opentelemetry.io/docs/specs/otlp/#otlphttp), in a Fastify
 * scope of its own rather than a Nest controller: it reads the raw body (protobuf, or JSON, either
 * gzip-compressed) with its own parsers and limit, and answers every error as a google.rpc.Status
 * in the client's encoding, body-parsing errors included, which the API's exception filter would
 * write in the API's JSON shape. Authorised by the same API keys (`Authorization: Bearer <key>`;
 * the tenant is the key's). Not in the OpenAPI document (docs/OTEL.md describes it).
 *
 * The body limit is GATEWAY_BODY_LIMIT_BYTES (16 MiB by default), counted after decompression so
 * a small gzip body cannot expand without bound.
 */
export async function registerOtlpRoutes(app: NestFastifyApplication, config: GatewayConfig): Promise<void> {
  const ingest = app.get(OtlpIngestService);
  const keys = app.get(ApiKeys);
  const log = new Logger('OTLP');
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  await fastify.register(async (scope: FastifyInstance) => {
    // Any content type reaches the handler as bytes; the hooks below refuse the wrong ones first.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body));

    // Before the body is read: the key, then the content type and encoding.
    scope.addHook('onRequest', async (req: FastifyRequest) => {
      req.otlpTenantId = tenantOf(keys, req.headers.authorization);
      if (!encodingOf(req.headers['content-type'])) {
        throw new OtlpHttpError(415, `Content-Type must be ${PROTOBUF_CONTENT_TYPE} or ${JSON_CONTENT_TYPE}; got ${JSON.stringify(req.headers['content-type'] ?? '(none)')}`);
      }
      const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'gzip' && encoding !== 'identity') throw new OtlpHttpError(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported: send gzip or no encoding`);
    });

    scope.addHook('preParsing', async (req: FastifyRequest, _reply: FastifyReply, payload: Readable & { receivedEncodedLength?: number }) => {
      if ((req.headers['content-encoding'] ?? '').trim().toLowerCase() !== 'gzip') return payload;
      // Fastify counts the decompressed bytes against the limit, and the compressed ones against Content-Length.
      const gunzip = createGunzip() as ReturnType<typeof createGunzip> & { receivedEncodedLength: number };
      gunzip.receivedEncodedLength = 0;
      payload.on('data', (chunk: Buffer) => (gunzip.receivedEncodedLength += chunk.length));
      payload.on('error', (err) => gunzip.destroy(err));
      return payload.pipe(gunzip);
    });

    scope.setErrorHandler((err: FastifyError | OtlpHttpError, req: FastifyRequest, reply: FastifyReply) => {
      const status = statusOf(err);
      const message = status === 500 ? 'internal error' : messageOf(err, status, config.GATEWAY_BODY_LIMIT_BYTES);
      if (status === 500) log.error(err instanceof Error ? err.stack ?? err.message : String(err));
      if (err instanceof OtlpHttpError && err.retryAfterS) void reply.header('retry-after', String(err.retryAfterS));
      const { contentType, body } = statusBody(status, message, encodingOf(req.headers['content-type']));
      return reply.code(status).header('content-type', contentType).send(body);
    });

    scope.post(OTLP_TRACES_PATH, { bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES }, async (req: FastifyRequest, reply: FastifyReply) => {
      const encoding = encodingOf(req.headers['content-type']) as OtlpEncoding;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await ingest.ingest(req.otlpTenantId as string, decode(body, encoding));
      const partial = result.rejected.length > 0 ? { rejectedSpans: result.rejected.length, errorMessage: rejectionMessage(result) } : undefined;
      void reply.code(200).header('x-toolpath-otlp', summary(result));
      if (encoding === 'protobuf') return reply.header('content-type', PROTOBUF_CONTENT_TYPE).send(Buffer.from(encodeTraceResponseProtobuf(partial)));
      // OTLP/JSON writes int64 as a decimal string.
      return reply.header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(partial ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {}));
    });
  });
}

function tenantOf(keys: ApiKeys, header: string | undefined): string {
  if (!header) throw new OtlpHttpError(401, 'missing Authorization header: send "Bearer <api key>" (OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<key>)');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new OtlpHttpError(401, 'Authorization header must be "Bearer <api key>"');
  const tenantId = keys.tenantOf(match[1]);
  if (!tenantId) throw new OtlpHttpError(401, 'unknown API key');
  return tenantId;
}

function decode(body: Buffer, encoding: OtlpEncoding): DecodedTraceRequest {
  try {
    if (encoding === 'protobuf') return decodeTraceRequestProtobuf(body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new MalformedExportError(`the body is not JSON: ${(err as Error).message}`);
    }
    return decodeTraceRequestJson(parsed);
  } catch (err) {
    if (err instanceof MalformedExportError) throw new OtlpHttpError(400, err.message);
    throw err;
  }
}

/** Counts for people and tests reading the answer (the OTLP body only tells about refusals). */
function summary(r: OtlpIngestResult): string {
  return `spans=${r.spans}; events=${r.accepted}; duplicates=${r.duplicates}; ignored=${r.ignored}; rejected=${r.rejected.length}`;
}

function statusOf(err: unknown): number {
  const s = (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
}

function messageOf(err: FastifyError | OtlpHttpError, status: number, limit: number): string {
  if (status === 413) return `the export is over the ${limit}-byte limit (counted after decompression); send smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)`;
  const code = (err as FastifyError).code;
  // zlib's errors ("incorrect header check", ...) say nothing of where they came from.
  if (typeof code === 'string' && code.startsWith('Z_')) return `the body is not valid gzip: ${err.message}`;
  return err.message;
}
