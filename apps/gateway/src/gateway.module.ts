import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeys } from './auth/api-keys';
import { SessionController } from './auth/session.controller';
import { ExecutionStream } from './executions/execution-stream';
import { ExecutionsController } from './executions/executions.controller';
import { ExecutionsService } from './executions/executions.service';
import { ExecutorClient } from './executions/executor.client';
import { EventsController } from './events/events.controller';
import { PipelineMetrics } from './events/pipeline.metrics';
import { SubmitEventsService } from './events/submit-events.service';
import { TOOL_EVENT_READER } from './events/tool-event-reader.provider';
import type { GatewayConfig } from './gateway.config';
import { LEARNING_CONTROLLERS, LEARNING_PROVIDERS } from './learning/learning.providers';
import { LIBRARY_CONTROLLERS, LIBRARY_PROVIDERS } from './library/library.providers';
import { MCP_SERVER_CONTROLLERS, MCP_SERVER_PROVIDERS } from './mcp-server/mcp-server.providers';
import { OpenAiProxyController } from './openai-proxy/openai-proxy.controller';
import { OpenAiProxyService } from './openai-proxy/openai-proxy.service';
import { OtlpIngestService } from './otlp/otlp-ingest.service';
import { ResourcesController } from './resources/resources.controller';
import { ResourcesService } from './resources/resources.service';
import { McpGatewayProvider } from './mcp-gateway/mcp-gateway.provider';
import { MCP_TOOL_PROVIDERS, type McpToolProvider } from './mcp-server/mcp-tool-provider';
import { ToolpathToolProvider } from './mcp-server/toolpath-tool-provider';
import { WorkflowRepository } from './workflows/workflow.repository';
import { CanvasController } from './workflows/canvas.controller';
import { QueueDepthController } from './queues/queue-depth.controller';
import { QueueDepth } from './queues/queue-depth';
import { CanvasRepository } from './workflows/canvas.repository';
import { WorkflowsController } from './workflows/workflows.controller';
import { WorkflowsService } from './workflows/workflows.service';

export const GATEWAY_SERVICE: ServiceInfo = { name: 'gateway', defaultPort: DefaultPorts.gateway };
/** Every REST route of the product lives under this prefix (health, metrics and docs do not). */
export const API_PREFIX = 'api/v1';

@Module({})
export class GatewayModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot({ service: GATEWAY_SERVICE, config, uses: { nats: true, mongo: true } })],
      controllers: [SessionController, ...LEARNING_CONTROLLERS, ...LIBRARY_CONTROLLERS, ResourcesController, EventsController, ExecutionsController, WorkflowsController, CanvasController, QueueDepthController, OpenAiProxyController, ...MCP_SERVER_CONTROLLERS],
      providers: [
        // The configured keys, looked up by the guard and exchanged for sessions by the sign-in.
        { provide: ApiKeys, useValue: new ApiKeys(config.TOOLPATH_API_KEYS) },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        SubmitEventsService,
        TOOL_EVENT_READER,
        PipelineMetrics,
        WorkflowRepository,
        CanvasRepository,
        QueueDepth,
        WorkflowsService,
        ExecutorClient,
        ExecutionsService,
        ExecutionStream,
        ...LEARNING_PROVIDERS,
        ...LIBRARY_PROVIDERS,
        OpenAiProxyService,
        OtlpIngestService,
        ResourcesService,
        ...MCP_SERVER_PROVIDERS,
        McpGatewayProvider,
        // Every source of tools on /mcp (mcp-server/mcp-tool-provider.ts): a new one is added to `inject`.
        { provide: MCP_TOOL_PROVIDERS, useFactory: (...providers: McpToolProvider[]) => providers, inject: [ToolpathToolProvider, McpGatewayProvider] },
      ],
    };
  }
}
