import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SuggestionsView } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { AnalyzerClient } from './analyzer.client';
import { SuggestionsQuery } from './learning.schemas';

@ApiTags('learning')
@ApiBearerAuth()
@errorResponses()
@Controller('suggestions')
export class SuggestionsController {
  constructor(private readonly analyzer: AnalyzerClient) {}

  @Get()
  @ApiOperation({
    summary: 'Workflows worth running for this intent or after these calls',
    description:
      'Catalog workflows (user-submitted, generated, templates) come before learned ones; learned ones only above the confidence threshold. The intent is matched with BM25 against the intents of the sessions behind each workflow (and a catalog workflow\'s name and description); `tools` (already called, in order) match workflows that start with the last calls, and `nextSteps` gives the usual next tools with their probability.',
  })
  @ApiQuery({ name: 'intent', required: false })
  @ApiQuery({ name: 'tools', required: false, description: 'comma-separated, in call order' })
  @ApiQuery({ name: 'userId', required: false, description: 'learned workflows seen for this user only' })
  @ApiQuery({ name: 'agentId', required: false })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 50, default: 5 } })
  @ApiResponse({ status: 200, schema: ref('Suggestions') })
  @ApiResponse({ status: 503, description: 'No analyzer answered in time', schema: ref('ApiError') })
  suggest(@Tenant() tenantId: string, @Query(new ZodValidationPipe(SuggestionsQuery)) q: SuggestionsQuery): Promise<SuggestionsView> {
    return this.analyzer.suggest(tenantId, q);
  }
}
