import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Page } from '@toolpath/contracts';
import { InvalidCursorError } from '@toolpath/event-store';
import { ApiError, ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { RequiredBodyPipe } from '../common/required-body.pipe';
import { ApiZodParam, ApiZodQuery } from '../docs/zod-openapi';
import { workflowView, type StoredWorkflow } from './workflow.repository';
import { ListWorkflowsQuery, VersionParam, VersionsQuery, WorkflowIdParam } from './workflows.schemas';
import { WorkflowsService, type ValidationReport, type WorkflowStats } from './workflows.service';

/** A workflow id from the path, checked; shared by every controller under /workflows/:id. */
export const idParam = new ZodValidationPipe(WorkflowIdParam);
export const notFoundResponse = ApiResponse({ status: 404, description: 'No such workflow for this tenant', schema: ref('ApiError') });

@ApiTags('workflows')
@ApiBearerAuth()
@errorResponses()
@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Post()
  @ApiOperation({
    summary: 'Store a new workflow (version 1)',
    description: 'The body is a workflow definition (v1). It is validated first; a 400 lists every error with its stepId and field, and nothing is stored.',
  })
  @ApiBody({ schema: ref('WorkflowDefinition') })
  @ApiResponse({ status: 201, schema: ref('StoredWorkflow') })
  async create(@Tenant() tenantId: string, @Body(RequiredBodyPipe) body: unknown): Promise<StoredWorkflow> {
    return this.workflows.create(tenantId, body);
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Validate a definition without storing it',
    description: 'Any JSON value is checked and answered 200: `valid`, every error with its stepId and field (a value that is not a definition is one such error), and `levels`, the step ids that can run in parallel, level by level. Only a missing body is a 400.',
  })
  @ApiBody({ description: 'a workflow definition to check (see WorkflowDefinition)', schema: {} })
  @ApiResponse({ status: 200, schema: ref('WorkflowValidation') })
  validate(@Body(RequiredBodyPipe) body: unknown): ValidationReport {
    return this.workflows.validate(body);
  }

  @Get()
  @ApiOperation({ summary: 'List workflows, newest first (cursor pagination)' })
  @ApiZodQuery(ListWorkflowsQuery)
  @ApiResponse({ status: 200, schema: ref('WorkflowPage') })
  async list(@Tenant() tenantId: string, @Query(new ZodValidationPipe(ListWorkflowsQuery)) q: ListWorkflowsQuery): Promise<Page<StoredWorkflow>> {
    const { limit, cursor, ...filter } = q;
    try {
      return await this.workflows.list(tenantId, filter, limit, cursor);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new ApiError(400, err.message, [{ field: 'cursor', message: err.message }]);
      throw err;
    }
  }

  @Get(':id')
  @ApiOperation({ summary: 'The latest version of a workflow' })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiResponse({ status: 200, schema: ref('StoredWorkflow') })
  @notFoundResponse
  async get(@Tenant() tenantId: string, @Param('id', idParam) id: string): Promise<StoredWorkflow> {
    return workflowView(await this.workflows.get(tenantId, id));
  }

  @Put(':id')
  @ApiOperation({
    summary: 'Store a new version of a workflow',
    description: 'Every update is a new version. With `expectedVersion` in the body, a workflow that is no longer at that version answers 409.',
  })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiBody({ schema: ref('WorkflowUpdate') })
  @ApiResponse({ status: 200, schema: ref('StoredWorkflow') })
  @ApiResponse({ status: 409, description: 'expectedVersion does not match', schema: ref('ApiError') })
  @notFoundResponse
  async update(@Tenant() tenantId: string, @Param('id', idParam) id: string, @Body(RequiredBodyPipe) body: unknown): Promise<StoredWorkflow> {
    return this.workflows.update(tenantId, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a workflow (its versions and runs are kept)' })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiResponse({ status: 204 })
  @notFoundResponse
  async delete(@Tenant() tenantId: string, @Param('id', idParam) id: string): Promise<void> {
    await this.workflows.delete(tenantId, id);
  }

  @Get(':id/versions')
  @ApiOperation({ summary: 'Versions of a workflow, newest first' })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiZodQuery(VersionsQuery)
  @ApiResponse({ status: 200, schema: ref('WorkflowVersionPage') })
  @notFoundResponse
  async versions(@Tenant() tenantId: string, @Param('id', idParam) id: string, @Query(new ZodValidationPipe(VersionsQuery)) q: VersionsQuery) {
    return this.workflows.versions(tenantId, id, q.limit, q.cursor);
  }

  @Get(':id/versions/:version')
  @ApiOperation({ summary: 'One version of a workflow' })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiZodParam('version', VersionParam)
  @ApiResponse({ status: 200, schema: ref('WorkflowVersion') })
  @notFoundResponse
  async version(@Tenant() tenantId: string, @Param('id', idParam) id: string, @Param('version', new ZodValidationPipe(VersionParam)) version: number) {
    return this.workflows.version(tenantId, id, version);
  }

  @Post(':id/copy')
  @ApiOperation({ summary: 'Copy a workflow under a new id, named "<name> (copy)"' })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiResponse({ status: 201, schema: ref('StoredWorkflow') })
  @notFoundResponse
  async copy(@Tenant() tenantId: string, @Param('id', idParam) id: string): Promise<StoredWorkflow> {
    return this.workflows.copy(tenantId, id);
  }

  @Get(':id/stats')
  @ApiOperation({ summary: "Runs of a workflow: total, by status, mean duration and success rate (from the executor's list)" })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiResponse({ status: 200, schema: ref('WorkflowStats') })
  @ApiResponse({ status: 503, description: 'The executor did not answer', schema: ref('ApiError') })
  @notFoundResponse
  async stats(@Tenant() tenantId: string, @Param('id', idParam) id: string): Promise<WorkflowStats> {
    return this.workflows.stats(tenantId, id);
  }
}
