import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses } from '../docs/openapi-refs';
import { ApiZodBody, ApiZodParam, ApiZodResponse } from '../docs/zod-openapi';
import { CanvasRepository } from './canvas.repository';
import { CanvasBody, WorkflowCanvas } from './canvas.schemas';
import { WorkflowIdParam } from './workflows.schemas';
import { WorkflowsService } from './workflows.service';
import { idParam, notFoundResponse } from './workflows.controller';


/** The builder's canvas (seed 004's canvas endpoints): node positions and the view, kept per workflow, not per version. */
@ApiTags('workflows')
@ApiBearerAuth()
@errorResponses()
@Controller('workflows')
export class CanvasController {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly canvases: CanvasRepository,
  ) {}

  @Get(':id/canvas')
  @ApiOperation({ summary: "Where the builder draws a workflow's steps", description: 'A canvas never saved answers empty `nodes` and null `viewport` and `updatedAt`.' })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiZodResponse(200, WorkflowCanvas)
  @notFoundResponse
  async get(@Tenant() tenantId: string, @Param('id', idParam) id: string): Promise<WorkflowCanvas> {
    await this.workflows.get(tenantId, id);
    return this.canvases.get(tenantId, id);
  }

  @Put(':id/canvas')
  @ApiOperation({
    summary: "Replace a workflow's canvas",
    description: 'Positions are by step id; the definition is not changed and no version is made.',
  })
  @ApiZodParam('id', WorkflowIdParam)
  @ApiZodBody(CanvasBody, { required: true })
  @ApiZodResponse(200, WorkflowCanvas)
  @notFoundResponse
  async put(@Tenant() tenantId: string, @Param('id', idParam) id: string, @Body(new ZodValidationPipe(CanvasBody)) body: CanvasBody): Promise<WorkflowCanvas> {
    await this.workflows.get(tenantId, id);
    return this.canvases.put(tenantId, id, body);
  }
}
