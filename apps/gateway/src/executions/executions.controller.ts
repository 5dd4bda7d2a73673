import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { ExecutionView, ListExecutionsReply } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { RequiredBodyPipe } from '../common/required-body.pipe';
import { ApiZodParam, ApiZodQuery } from '../docs/zod-openapi';
import { WorkflowIdParam } from '../workflows/workflows.schemas';
import { ExecutionStream } from './execution-stream';
import { ExecutionsService, type RunAccepted } from './executions.service';
import { ExecutionIdParam, ListAllRunsQuery, ListRunsQuery } from './executions.schemas';

const executionId = new ZodValidationPipe(ExecutionIdParam);
const unavailable = ApiResponse({ status: 503, description: 'The executor did not answer in time (the message names it)', schema: ref('ApiError') });
const notFound = ApiResponse({ status: 404, schema: ref('ApiError') });
const tooLarge = ApiResponse({
  status: 413,
  description: "The request is over what NATS carries to the executor (its max_payload, 1 MB by default); the message names the largest field and the limit",
  schema: ref('ApiError'),
});

@ApiTags('runs')
@ApiBearerAuth()
@errorResponses()
@unavailable
@Controller()
export class ExecutionsController {
  constructor(
    private readonly runs: ExecutionsService,
    private readonly streams: ExecutionStream,
  ) {}

  @Post('workflows/:id/executions')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Run the latest version of a stored workflow',
    description: "`input` is checked against the workflow's `variables` (required keys, types). The same `idempotencyKey` returns the same run.",
  })
  @ApiZodParam('id', WorkflowIdParam, 'workflow id')
  @ApiBody({ required: false, description: 'may be left out: the run then has no input (the workflow\'s defaults apply)', schema: ref('StartRunRequest') })
  @ApiResponse({ status: 202, schema: ref('RunAccepted') })
  @notFound
  @tooLarge
  async startStored(@Tenant() tenantId: string, @Param('id', new ZodValidationPipe(WorkflowIdParam)) id: string, @Body() body: unknown): Promise<RunAccepted> {
    return this.runs.startStored(tenantId, id, body);
  }

  @Get('workflows/:id/executions')
  @ApiOperation({ summary: 'Runs of a workflow, newest first' })
  @ApiZodParam('id', WorkflowIdParam, 'workflow id')
  @ApiZodQuery(ListRunsQuery)
  @ApiResponse({ status: 200, schema: ref('ExecutionPage') })
  @notFound
  async listForWorkflow(
    @Tenant() tenantId: string,
    @Param('id', new ZodValidationPipe(WorkflowIdParam)) id: string,
    @Query(new ZodValidationPipe(ListRunsQuery)) q: ListRunsQuery,
  ): Promise<ListExecutionsReply> {
    return this.runs.listForWorkflow(tenantId, id, q);
  }

  @Post('executions')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run an inline definition (validated first; nothing is stored in the catalog)' })
  @ApiBody({ schema: ref('StartInlineRunRequest') })
  @ApiResponse({ status: 202, schema: ref('RunAccepted') })
  @tooLarge
  async startInline(@Tenant() tenantId: string, @Body(RequiredBodyPipe) body: unknown): Promise<RunAccepted> {
    return this.runs.startInline(tenantId, body);
  }

  @Get('executions')
  @ApiOperation({
    summary: 'Every run of the tenant, filters optional',
    description:
      'Runs still going (or ended moments ago) come first, newest first; then finished runs, most recently finished first. ' +
      'Keyset-paged: pass `nextCursor` as `cursor` for the next page, until it is null. A page may hold fewer than `limit` runs ' +
      '(even none) and still have a `nextCursor`: one request reads a bounded part of the list.',
  })
  @ApiZodQuery(ListAllRunsQuery)
  @ApiResponse({ status: 200, schema: ref('ExecutionPage') })
  async listAll(@Tenant() tenantId: string, @Query(new ZodValidationPipe(ListAllRunsQuery)) q: ListAllRunsQuery): Promise<ListExecutionsReply> {
    return this.runs.listAll(tenantId, q);
  }

  @Get('executions/:id')
  @ApiOperation({ summary: 'A run with the state of each step' })
  @ApiZodParam('id', ExecutionIdParam, 'execution id')
  @ApiResponse({ status: 200, schema: ref('Execution') })
  @notFound
  async get(@Tenant() tenantId: string, @Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.runs.get(tenantId, id);
  }

  @Post('executions/:id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a run: queued steps are cancelled, running attempts aborted' })
  @ApiZodParam('id', ExecutionIdParam, 'execution id')
  @ApiResponse({ status: 200, schema: ref('Execution') })
  @notFound
  async cancel(@Tenant() tenantId: string, @Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.runs.cancel(tenantId, id);
  }

  @Get('executions/:id/stream')
  @ApiOperation({
    summary: 'Follow a run as server-sent events',
    description:
      'Events: `state` (the run, as GET /executions/:id), then `update` for each state change (an ExecutionUpdate), then `end` with the final run, after which the stream closes. Comment lines (`: heartbeat`) are sent while idle.',
  })
  @ApiZodParam('id', ExecutionIdParam, 'execution id')
  @ApiResponse({
    status: 200,
    description: 'Server-sent events, each with its name and its data (JSON)',
    content: {
      'text/event-stream': {
        schema: {
          type: 'object',
          required: ['event', 'data'],
          properties: { event: { type: 'string', enum: ['state', 'update', 'end'] }, data: { type: 'string', description: 'the run (state, end) or an ExecutionUpdate (update), as JSON' } },
        },
      },
    },
  })
  @notFound
  async stream(@Tenant() tenantId: string, @Param('id', executionId) id: string, @Res() reply: FastifyReply): Promise<void> {
    await this.streams.stream(tenantId, id, reply);
  }
}
