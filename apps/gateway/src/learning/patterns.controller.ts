import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { PatternDetail, PatternView } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/zod-openapi';
import { AnalyzerClient } from './analyzer.client';
import { ListPatternsQuery, PatternIdParam, PatternQuery, PromoteBody } from './learning.schemas';
import { PatternPromotionService, type Promotion } from './pattern-promotion.service';

const patternId = new ZodValidationPipe(PatternIdParam);
const unavailable = ApiResponse({ status: 503, description: 'No analyzer answered in time (the message names it)', schema: ref('ApiError') });
const notFound = ApiResponse({ status: 404, description: 'No such pattern for this tenant', schema: ref('ApiError') });

@ApiTags('learning')
@ApiBearerAuth()
@errorResponses()
@unavailable
@Controller('patterns')
export class PatternsController {
  constructor(
    private readonly analyzer: AnalyzerClient,
    private readonly promotion: PatternPromotionService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Mined patterns of this tenant (cursor pagination)',
    description:
      'Recurring tool sequences (gapped: unrelated calls may sit between the steps), counted in distinct sessions. `userId`/`agentId` count support for that user or agent only.',
  })
  @ApiZodQuery(ListPatternsQuery)
  @ApiResponse({ status: 200, schema: ref('PatternPage') })
  list(@Tenant() tenantId: string, @Query(new ZodValidationPipe(ListPatternsQuery)) q: ListPatternsQuery): Promise<{ items: PatternView[]; nextCursor: string | null }> {
    return this.analyzer.listPatterns({ tenantId, ...q });
  }

  @Get(':id')
  @ApiOperation({ summary: 'A pattern with its learned workflow definition and example sessions' })
  @ApiZodParam('id', PatternIdParam)
  @ApiZodQuery(PatternQuery)
  @ApiResponse({ status: 200, schema: ref('PatternDetail') })
  @notFound
  get(@Tenant() tenantId: string, @Param('id', patternId) id: string, @Query(new ZodValidationPipe(PatternQuery)) q: PatternQuery): Promise<PatternDetail> {
    return this.analyzer.getPattern({ tenantId, patternId: id, examples: q.examples });
  }

  @Post(':id/promote')
  @ApiOperation({
    summary: 'Put the learned workflow in the catalog (manual approval)',
    description: 'Stores the learned definition (source `learned`, tagged `pattern-<id>`) as a new workflow and marks the pattern promoted. Promoting again returns the same workflow with 200.',
  })
  @ApiZodParam('id', PatternIdParam)
  @ApiZodBody(PromoteBody, { required: false })
  @ApiResponse({ status: 201, schema: ref('Promotion') })
  @ApiResponse({ status: 200, description: 'Already promoted', schema: ref('Promotion') })
  @notFound
  async promote(
    @Tenant() tenantId: string,
    @Param('id', patternId) id: string,
    @Body(new ZodValidationPipe(PromoteBody)) body: PromoteBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Promotion> {
    const done = await this.promotion.promote(tenantId, id, body);
    void reply.status(done.created ? 201 : 200);
    return done;
  }
}
