import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SuggestionsView } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodQuery } from '../docs/zod-openapi';
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
  @ApiZodQuery(SuggestionsQuery)
  @ApiResponse({ status: 200, schema: ref('Suggestions') })
  @ApiResponse({ status: 503, description: 'No analyzer answered in time', schema: ref('ApiError') })
  suggest(@Tenant() tenantId: string, @Query(new ZodValidationPipe(SuggestionsQuery)) q: SuggestionsQuery): Promise<SuggestionsView> {
    return this.analyzer.suggest(tenantId, q);
  }
}
