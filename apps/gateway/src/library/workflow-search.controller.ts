import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodQuery } from '../docs/zod-openapi';
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
  @ApiZodQuery(SearchWorkflowsQuery)
  @ApiResponse({ status: 200, schema: ref('WorkflowSearchPage') })
  search(@Tenant() tenantId: string, @Query(new ZodValidationPipe(SearchWorkflowsQuery)) q: SearchWorkflowsQuery): Promise<SearchPage> {
    return this.library.searchWorkflows(tenantId, q);
  }
}
