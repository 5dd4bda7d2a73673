import { Body, Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tenant } from '../auth/tenant.decorator';
import { SESSION_HEADER_PATTERN } from './chat-request';
import { OpenAiErrorFilter } from './openai-error.filter';
import { OpenAiProxyService } from './openai-proxy.service';

/** Routes served outside the `/api/v1` prefix, where OpenAI clients look for them. */
export const OPENAI_PROXY_ROUTES = [
  { path: 'v1/chat/completions', method: RequestMethod.POST },
  { path: 'v1/models', method: RequestMethod.GET },
];

const openAiErrorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: 'string', nullable: true }, code: { type: 'string', nullable: true } },
    },
    statusCode: { type: 'integer' },
  },
};

@ApiTags('openai-compatible')
@ApiBearerAuth()
@UseFilters(OpenAiErrorFilter)
@Controller('v1')
export class OpenAiProxyController {
  constructor(private readonly proxy: OpenAiProxyService) {}

  @Post('chat/completions')
  @ApiOperation({
    summary: 'OpenAI-compatible chat completions, proxied to the configured LLM and recorded',
    description:
      'Point any OpenAI client at `<gateway>/v1` with a Toolpath API key as its key. The request goes to `OPENAI_BASE_URL` ' +
      '(model `OPENAI_MODEL` when the request names none), streamed (SSE, chunk by chunk) or not. Upstream error statuses are ' +
      'passed through (429 stays 429, with Retry-After); an unreachable upstream or one that answers garbage gives 502, a slow one 504. ' +
      'Each exchange is recorded as a session: intent = the last user message, each tool call of the model with the tool message ' +
      'that answers it = a tool_call event, a final answer = session_end. The session id comes from `X-Toolpath-Session` or is ' +
      'derived from the conversation and returned in the `X-Toolpath-Session` response header. With suggestions on ' +
      '(`OPENAI_PROXY_SUGGESTIONS`, or `X-Toolpath-Suggestions: on`), the best learned workflows for the intent are added as a ' +
      'system message ("Past experience: ..."). Errors use OpenAI\'s shape `{ error: { message, type, param, code } }`.',
  })
  @ApiHeader({ name: 'X-Toolpath-Session', required: false, description: 'session id to record under (1-128 printable ASCII characters)', schema: { type: 'string', pattern: SESSION_HEADER_PATTERN.source } })
  @ApiHeader({ name: 'X-Toolpath-Suggestions', required: false, description: 'add "Past experience" to this request (on) or not (off); other values leave the default', schema: { type: 'string' } })
  @ApiHeader({ name: 'X-Toolpath-Agent', required: false, description: 'agentId recorded on the events (the first 256 characters; empty: none)', schema: { type: 'string' } })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['messages'],
      additionalProperties: true,
      properties: {
        model: { type: 'string', minLength: 1, description: 'defaults to OPENAI_MODEL' },
        messages: { type: 'array', minItems: 1, items: { type: 'object', required: ['role'], additionalProperties: true, properties: { role: { type: 'string' } } } },
        stream: { type: 'boolean', nullable: true },
      },
      description: 'An OpenAI chat completion request. The proxy checks the fields listed here; every other field (tools, response_format, ...) goes to the upstream as sent, which answers for it.',
    },
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiResponse({ status: 200, description: 'The upstream chat completion (JSON), or its SSE stream ending with `data: [DONE]`' })
  @ApiResponse({ status: 400, description: 'No messages, a bad model or stream field', schema: openAiErrorSchema })
  @ApiResponse({ status: 401, description: 'Missing or unknown API key', schema: openAiErrorSchema })
  @ApiResponse({ status: 429, description: "The upstream's rate limit, passed through with its Retry-After" })
  @ApiResponse({ status: 502, description: 'The upstream is unreachable, dropped the connection or answered something that is not a chat completion', schema: openAiErrorSchema })
  @ApiResponse({ status: 504, description: 'The upstream did not answer within OPENAI_PROXY_TIMEOUT_MS', schema: openAiErrorSchema })
  async chatCompletions(@Tenant() tenantId: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.proxy.chatCompletions(tenantId, body, req, reply);
  }

  @Get('models')
  @ApiOperation({ summary: "The upstream's model list (OpenAI-compatible)" })
  @ApiResponse({ status: 200, description: "The upstream's answer, passed through" })
  @ApiResponse({ status: 401, description: 'Missing or unknown API key', schema: openAiErrorSchema })
  @ApiResponse({ status: 502, description: 'The upstream is unreachable or answered something that is not a model list', schema: openAiErrorSchema })
  @ApiResponse({ status: 504, description: 'The upstream did not answer within OPENAI_PROXY_TIMEOUT_MS', schema: openAiErrorSchema })
  async models(@Res() reply: FastifyReply): Promise<void> {
    await this.proxy.models(reply);
  }
}
