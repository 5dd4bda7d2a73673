import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toErrorBody } from '@toolpath/platform';
import { UpstreamTimeoutError, UpstreamUnavailableError } from './upstream-chat.client';

/** The error body OpenAI clients parse (`error.message`, `error.type`, `error.param`, `error.code`), plus the status. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
  statusCode: number;
}

export function openAiError(statusCode: number, message: string, type: string, code: string | null = null, param: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param, code }, statusCode };
}

/**
 * Errors on the OpenAI-compatible routes leave in OpenAI's shape, so that any OpenAI client shows
 * the message (the official one reads `error.message`); the REST routes keep the project's shape.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('OpenAiProxy');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    const body = toOpenAiError(exception);
    if (body.statusCode === 500) this.log.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

export function toOpenAiError(exception: unknown): OpenAiErrorBody {
  if (exception instanceof UpstreamTimeoutError) return openAiError(504, exception.message, 'upstream_timeout', 'upstream_timeout');
  if (exception instanceof UpstreamUnavailableError) return openAiError(502, exception.message, 'upstream_error', 'bad_upstream');
  const body = toErrorBody(exception);
  const details = Array.isArray(body.details) ? body.details : undefined;
  const param = details?.[0]?.field ?? null;
  const type = body.statusCode === 401 ? 'authentication_error' : body.statusCode < 500 ? 'invalid_request_error' : 'server_error';
  const code = body.statusCode === 401 ? 'invalid_api_key' : null;
  return openAiError(body.statusCode, body.message, type, code, param);
}
