import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { SearchWorkflowsQuery } from './library.schemas';
import { LibraryService, type SearchPage } from './library.service';

@ApiTags('workflows')
@ApiBearerAuth()
@errorResponses()
@Controller('workflows')
export class WorkflowSearchController {
  constructor(private readonly library: LibraryService) {}

  @Get('search')
  @ApiOperation({
    summary: 'Search the catalog by text, category, tag and tools; find workflows that cover a set of tools',
    description:
      'Ranked: by the share of `tools` a workflow covers, then by text relevance (`q` in name, tags, category, tools, description), then newest. ' +
      'With `match=all` (the default) only workflows calling every tool in `tools` are returned; with `match=any`, those calling at least one.',
  })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'category', required: false })
  @ApiQuery({ name: 'tag', required: false })
  @ApiQuery({ name: 'tool', required: false, description: 'a tool the workflow must call' })
  @ApiQuery({ name: 'tools', required: false, description: 'comma-separated tools to cover (or repeat the parameter)' })
  @ApiQuery({ name: 'match', required: false, enum: ['all', 'any'] })
  @ApiQuery({ name: 'source', required: false, enum: ['user', 'learned', 'generated', 'template'] })
  @ApiQuery({ name: 'includeTemplates', required: false, schema: { type: 'boolean', default: false } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  @ApiResponse({ status: 200, schema: ref('WorkflowSearchPage') })
  search(@Tenant() tenantId: string, @Query(new ZodValidationPipe(SearchWorkflowsQuery)) q: SearchWorkflowsQuery): Promise<SearchPage> {
    return this.library.searchWorkflows(tenantId, q);
  }
}
