import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/zod-openapi';
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
  @ApiZodQuery(ListTemplatesQuery)
  @ApiResponse({ status: 200, schema: ref('TemplateList') })
  list(@Query(new ZodValidationPipe(ListTemplatesQuery)) q: ListTemplatesQuery): TemplateList {
    return this.library.listTemplates(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One template: its definition (variables, steps) and summary' })
  @ApiZodParam('id', TemplateIdParam)
  @ApiResponse({ status: 200, schema: ref('Template') })
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
  @ApiZodParam('id', TemplateIdParam)
  @ApiZodBody(InstantiateBody, { required: false })
  @ApiResponse({ status: 201, schema: ref('StoredWorkflow') })
  @ApiResponse({ status: 404, description: 'No such template', schema: ref('ApiError') })
  instantiate(@Tenant() tenantId: string, @Param('id', templateId) id: string, @Body(new ZodValidationPipe(InstantiateBody)) body: InstantiateBody): Promise<StoredWorkflow> {
    return this.library.instantiate(tenantId, id, body);
  }
}
