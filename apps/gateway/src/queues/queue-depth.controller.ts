import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { ApiZodResponse } from '../docs/zod-openapi';
import { COUNTED_STATES, QueueDepth, type QueueDepthView } from './queue-depth';

const QueueDepthSchema = z.strictObject({
  queues: z.array(
    z.strictObject({
      name: z.string(),
      counts: z.strictObject(Object.fromEntries(COUNTED_STATES.map((s) => [s, z.number().int().min(0)])) as Record<(typeof COUNTED_STATES)[number], z.ZodNumber>),
    }),
  ),
});

@ApiTags('queues')
@ApiBearerAuth()
@errorResponses()
@Controller('stats')
export class QueueDepthController {
  constructor(private readonly depth: QueueDepth) {}

  @Get('queues')
  @ApiOperation({
    summary: "The executor's job queues: jobs per state",
    description: 'The queues hold every tenant\'s jobs, so the rule of the /queues dashboard applies: with keys of several tenants, only those GATEWAY_QUEUES_TENANTS names may see them (403 otherwise).',
  })
  @ApiZodResponse(200, QueueDepthSchema)
  @ApiResponse({ status: 403, description: 'This tenant may not see the shared queues', schema: ref('ApiError') })
  @ApiResponse({ status: 503, description: 'Redis did not answer', schema: ref('ApiError') })
  counts(@Tenant() tenantId: string): Promise<QueueDepthView> {
    return this.depth.counts(tenantId);
  }
}
