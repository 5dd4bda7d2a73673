import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AnalyzerRunView } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodParam } from '../docs/zod-openapi';
import { AnalyzerClient } from './analyzer.client';
import { RunIdParam, StartRunBody } from './learning.schemas';

@ApiTags('learning')
@ApiBearerAuth()
@errorResponses()
@ApiResponse({ status: 503, description: 'No analyzer answered in time', schema: ref('ApiError') })
@Controller('analyzer/runs')
export class AnalyzerRunsController {
  constructor(private readonly analyzer: AnalyzerClient) {}

  @Post()
  @ApiOperation({
    summary: 'Run the analyzer now',
    description:
      '`incremental` (default) reads the events recorded since the last run, for every tenant (the answer shows this tenant\'s share). `full` rebuilds this tenant\'s patterns from all its stored events. Answers 200 with the run when it ends within `waitMs` (default 30 s), else 202 with the run still `running` (follow it with GET /analyzer/runs/:id). 409 when another run kept the lock for all of `waitMs`.',
  })
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { mode: { type: 'string', enum: ['incremental', 'full'], default: 'incremental' }, waitMs: { type: 'integer', minimum: 0, maximum: 120000, default: 30000 } },
    },
  })
  @ApiResponse({ status: 200, description: 'The run ended', schema: ref('AnalyzerRun') })
  @ApiResponse({ status: 202, description: 'The run is still going', schema: ref('AnalyzerRun') })
  @ApiResponse({ status: 409, description: 'Another run holds the lock', schema: ref('ApiError') })
  async start(
    @Tenant() tenantId: string,
    @Body(new ZodValidationPipe(StartRunBody)) body: StartRunBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AnalyzerRunView> {
    const run = await this.analyzer.startRun({ tenantId, mode: body.mode, waitMs: body.waitMs });
    void reply.status(run.status === 'running' ? 202 : 200);
    return run;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One analyzer run (`latest` for the most recent one this tenant can see)' })
  @ApiZodParam('id', RunIdParam, 'run id, or `latest`')
  @ApiResponse({ status: 200, schema: ref('AnalyzerRun') })
  @ApiResponse({ status: 404, schema: ref('ApiError') })
  get(@Tenant() tenantId: string, @Param('id', new ZodValidationPipe(RunIdParam)) id: string): Promise<AnalyzerRunView> {
    return this.analyzer.getRun({ tenantId, runId: id });
  }
}
