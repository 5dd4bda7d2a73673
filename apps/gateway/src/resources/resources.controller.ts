import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Page } from '@toolpath/contracts';
import { ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses } from '../docs/openapi-refs';
import { ApiZodQuery } from '../docs/zod-openapi';
import { AgentsQuery, McpsQuery, ToolsQuery } from './resources.schemas';
import { ResourcesService, type AgentResource, type McpResource, type ToolListing } from './resources.service';

const page = (items: Record<string, unknown>) => ({ type: 'object', properties: { items: { type: 'array', items }, nextCursor: { type: 'string', nullable: true } } });

/**
 * Static three-segment paths: `/workflows/:id` (one segment) cannot capture them, and the router
 * prefers static segments anyway (checked by the resources e2e test).
 */
@ApiTags('resources')
@ApiBearerAuth()
@errorResponses()
@Controller('workflows/resources')
export class ResourcesController {
  constructor(private readonly resources: ResourcesService) {}

  @Get('tools')
  @ApiOperation({
    summary: 'Every tool a step can name: built-ins, NATS providers from the tool registry, and MCP tools (mcp:<server>/<tool>)',
    description: 'A source that cannot be read is reported in `warnings` and the others are still listed.',
  })
  @ApiZodQuery(ToolsQuery)
  @ApiResponse({
    status: 200,
    schema: {
      ...page({
        type: 'object',
        properties: {
          name: { type: 'string' },
          source: { type: 'string', enum: ['builtin', 'nats', 'mcp'] },
          description: { type: 'string' },
          inputSchema: { type: 'object' },
          outputSchema: { type: 'object' },
          server: { type: 'string' },
        },
      }),
    },
  })
  tools(@Query(new ZodValidationPipe(ToolsQuery)) q: ToolsQuery): Promise<ToolListing> {
    return this.resources.tools(q);
  }

  @Get('agents')
  @ApiOperation({ summary: "Agents seen in this tenant's tool calls (agentId) over the last `days`, with event and failure counts, their most used tools and when each was last seen" })
  @ApiZodQuery(AgentsQuery)
  @ApiResponse({
    status: 200,
    schema: page({
      type: 'object',
      required: ['agentId', 'events', 'failed', 'successRate', 'tools', 'lastSeenAt'],
      properties: {
        agentId: { type: 'string' },
        events: { type: 'integer' },
        failed: { type: 'integer' },
        successRate: { type: 'number', nullable: true },
        tools: { type: 'array', items: { type: 'object', required: ['tool', 'count'], properties: { tool: { type: 'string' }, count: { type: 'integer' } } } },
        lastSeenAt: { type: 'string', format: 'date-time', nullable: true, description: 'the start time of its newest event of any kind' },
      },
    }),
  })
  async agents(@Tenant() tenantId: string, @Query(new ZodValidationPipe(AgentsQuery)) q: AgentsQuery): Promise<Page<AgentResource>> {
    return { items: await this.resources.agents(tenantId, new Date(Date.now() - q.days * 24 * 3600 * 1000)), nextCursor: null };
  }

  @Get('mcps')
  @ApiOperation({ summary: 'Configured MCP servers (TOOLPATH_MCP_SERVERS) with their connection state and tool counts' })
  @ApiZodQuery(McpsQuery)
  @ApiResponse({
    status: 200,
    schema: page({
      type: 'object',
      properties: {
        name: { type: 'string' },
        transport: { type: 'string', enum: ['stdio', 'http'] },
        target: { type: 'string' },
        state: { type: 'string', enum: ['idle', 'connecting', 'connected', 'failed', 'closed'] },
        toolCount: { type: 'integer', nullable: true },
        toolsFetchedAt: { type: 'string', nullable: true },
        connectedAt: { type: 'string', nullable: true },
        lastError: { type: 'string', nullable: true },
        failures: { type: 'integer' },
      },
    }),
  })
  async mcps(@Query(new ZodValidationPipe(McpsQuery)) q: McpsQuery): Promise<Page<McpResource>> {
    return { items: await this.resources.mcps(q.probe), nextCursor: null };
  }
}
