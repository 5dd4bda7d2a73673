import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { issuesFromZod, type ApiErrorBody } from '@toolpath/contracts';
import { NatsRequestError } from '../nats/nats-request-errors';
import { natsRequestErrorBody } from './nats-request-error-body';
import type { RouteMethods } from './route-methods';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Every error leaves as `{ statusCode, error, message, details? }`. Caller faults (bad JSON, a
 * body over the limit, a failed schema) keep their 4xx; only our own faults become 500, logged.
 */
/**
 * The error body of the routes under `pathPrefix`, when it is not the API's: the OpenAI-compatible
 * routes answer in OpenAI's shape, errors raised before any route runs (a body that does not
 * parse) included. `format` returns the body with its `statusCode`.
 */
export interface ErrorFormat {
  pathPrefix: string;
  format: (exception: unknown) => { statusCode: number };
}

/** The body maker for a request to `url`: its path's format, else the API's. */
export function errorFormatFor(formats: ErrorFormat[] | undefined, url: string): (exception: unknown) => { statusCode: number } {
  return formats?.find((f) => url.startsWith(f.pathPrefix))?.format ?? toErrorBody;
}

/**
 * Every error leaves as `{ statusCode, error, message, details? }` (or as its path's
 * `ErrorFormat`). Caller faults (bad JSON, a body over the limit, a failed schema) keep their
 * 4xx; only our own faults become 500, logged.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  /** `routes`: the service's routes by method (a known path with another method is a 405). */
  constructor(
    private readonly routes?: RouteMethods,
    private readonly formats: ErrorFormat[] = [],
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const req = host.switchToHttp().getRequest<{ method?: string; url?: string; routeOptions?: { bodyLimit?: number } }>();
    const path = (req?.url ?? '').split('?')[0];
    let error = exception;
    // No route for this method: when the path has routes for others, 405 naming them in Allow.
    // Any caller fault counts, not only the router's 404: Fastify checks a body method's
    // Content-Type (QUERY without one is a 400) before it finds that no route takes the method.
    const status = toErrorBody(exception).statusCode;
    if (status >= 400 && status < 500 && this.routes && !hasRoute(host)) {
      const allowed = this.routes.allowed(path);
      if (allowed.length > 0 && !allowed.includes(req?.method ?? '')) {
        error = new ApiError(405, `${req?.method} is not allowed on ${path}; it answers ${allowed.join(', ')}`);
        reply.header('allow', allowed.join(', '));
      }
    }
    // Fastify's own 413 (Nest hands it over with a bare message) does not say how much is allowed.
    const limit = req?.routeOptions?.bodyLimit;
    if (status === 413 && error instanceof HttpException && typeof error.getResponse() === 'string' && limit) error = new ApiError(413, `request body is over the ${limit}-byte limit`);
    const format = errorFormatFor(this.formats, path);
    const body = format(error);
    if (body.statusCode >= 500) this.log.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    // A 503 is a dependency that is down or taking over (an executor restarting, say): the
    // client may try again, and Retry-After says when.
    if (body.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfterOf(exception)));
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

/** Whether the request reached one of the service's routes (Fastify's 404 handler has none). */
function hasRoute(host: ArgumentsHost): boolean {
  const req = host.switchToHttp().getRequest<{ routeOptions?: { url?: string } }>();
  return typeof req?.routeOptions?.url === 'string';
}

/** Seconds a 503's client should wait: the error's own `retryAfterS` when it has one, else 1. */
function retryAfterOf(exception: unknown): number {
  const s = (exception as { retryAfterS?: unknown })?.retryAfterS;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? Math.ceil(s) : 1;
}

export function toErrorBody(exception: unknown): ApiErrorBody {
  // A request to another service that brought back no value (none listening, no answer, its refusal).
  if (exception instanceof NatsRequestError) {
    const { statusCode, message, details } = natsRequestErrorBody(exception);
    return { statusCode, error: REASONS[statusCode] ?? 'Error', message, ...(details !== undefined ? { details } : {}) };
  }
  if (exception instanceof ZodError) {
    const details = issuesFromZod(exception);
    return { statusCode: 400, error: REASONS[400], message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details };
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null) {
      const r = response as Record<string, unknown>;
      const message = Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? exception.message);
      return {
        statusCode,
        error: typeof r.error === 'string' ? r.error : REASONS[statusCode] ?? 'Error',
        message,
        ...(r.details !== undefined ? { details: r.details as ApiErrorBody['details'] } : {}),
      };
    }
    return { statusCode, error: REASONS[statusCode] ?? 'Error', message: String(response) };
  }
  // Errors raised by Fastify itself (body parsing, size limits) carry a statusCode.
  const fastifyError = exception as { statusCode?: number; message?: string; code?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const statusCode = fastifyError.statusCode;
    return { statusCode, error: REASONS[statusCode] ?? 'Error', message: fastifyError.message ?? 'bad request', details: { code: fastifyError.code } };
  }
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: REASONS[500], message: 'internal error' };
}

/** A 4xx with the contract's body and field-level details. */
export class ApiError extends HttpException {
  constructor(statusCode: number, message: string, details?: ApiErrorBody['details']) {
    super({ statusCode, error: REASONS[statusCode] ?? 'Error', message, details }, statusCode);
  }
}
