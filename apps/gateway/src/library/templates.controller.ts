import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import type { StoredWorkflow } from '../workflows/workflow.repository';
import { InstantiateBody, ListTemplatesQuery, TemplateIdParam } from './library.schemas';
import { LibraryService, type TemplateList } from './library.service';

const templateId = new ZodValidationPipe(TemplateIdParam);

@ApiTags('templates')
@ApiBearerAuth()
@errorResponses()
@Controller('workflows/templates')
export class TemplatesController {
  constructor(private readonly library: LibraryService) {}

  @Get()
  @ApiOperation({ summary: 'Built-in workflow templates, by category then id' })
  @ApiQuery({ name: 'category', required: false })
  @ApiQuery({ name: 'q', required: false, description: 'words in the name, description, tags or tools' })
  @ApiQuery({ name: 'tool', required: false, description: 'a tool one of the steps calls' })
  @ApiResponse({ status: 200, schema: ref('TemplateList') })
  list(@Query(new ZodValidationPipe(ListTemplatesQuery)) q: ListTemplatesQuery): TemplateList {
    return this.library.listTemplates(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One template: its definition (variables, steps) and summary' })
  @ApiParam({ name: 'id' })
  @ApiResponse({ status: 200, schema: ref('WorkflowDefinition') })
  @ApiResponse({ status: 404, description: 'No such template', schema: ref('ApiError') })
  get(@Param('id', templateId) id: string) {
    return this.library.getTemplate(id);
  }

  @Post(':id/instantiate')
  @ApiOperation({
    summary: "Copy a template into the tenant's catalog",
    description:
      'Values in `variables` are bound into the copy (a string exactly "{{ input.x }}" becomes the value; inside expressions the value becomes a literal); ' +
      'the bound variables leave the copy\'s `variables`, the others stay run inputs. The copy has source "template" and keeps `templateId`.',
  })
  @ApiParam({ name: 'id' })
  @ApiBody({ schema: ref('InstantiateTemplateRequest') })
  @ApiResponse({ status: 201, schema: ref('StoredWorkflow') })
  @ApiResponse({ status: 404, description: 'No such template', schema: ref('ApiError') })
  instantiate(@Tenant() tenantId: string, @Param('id', templateId) id: string, @Body(new ZodValidationPipe(InstantiateBody)) body: InstantiateBody): Promise<StoredWorkflow> {
    return this.library.instantiate(tenantId, id, body);
  }
}
