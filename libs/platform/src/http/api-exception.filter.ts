import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, NotFoundException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { issuesFromZod, type ApiErrorBody } from '@toolpath/contracts';
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
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  /** `routes`: the service's routes by method (a known path with another method is a 405). */
  constructor(private readonly routes?: RouteMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = toErrorBody(exception);
    // No route for this method: when the path has routes for others, 405 naming them in Allow.
    if (body.statusCode === 404 && exception instanceof NotFoundException && this.routes) {
      const req = host.switchToHttp().getRequest<{ method?: string; url?: string }>();
      const allowed = this.routes.allowed(req?.url ?? '');
      if (allowed.length > 0 && !allowed.includes(req?.method ?? '')) {
        const path = (req?.url ?? '').split('?')[0];
        Object.assign(body, { statusCode: 405, error: REASONS[405], message: `${req?.method} is not allowed on ${path}; it answers ${allowed.join(', ')}` });
        reply.header('allow', allowed.join(', '));
      }
    }
    // Fastify's own 413 (Nest hands it over with a bare message) does not say how much is allowed.
    const limit = host.switchToHttp().getRequest<{ routeOptions?: { bodyLimit?: number } }>()?.routeOptions?.bodyLimit;
    if (body.statusCode === 413 && exception instanceof HttpException && typeof exception.getResponse() === 'string' && limit) body.message = `request body is over the ${limit}-byte limit`;
    if (body.statusCode >= 500) this.log.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    // A 503 is a dependency that is down or taking over (an executor restarting, say): the
    // client may try again, and Retry-After says when.
    if (body.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfterOf(exception)));
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

/** Seconds a 503's client should wait: the error's own `retryAfterS` when it has one, else 1. */
function retryAfterOf(exception: unknown): number {
  const s = (exception as { retryAfterS?: unknown })?.retryAfterS;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? Math.ceil(s) : 1;
}

export function toErrorBody(exception: unknown): ApiErrorBody {
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
