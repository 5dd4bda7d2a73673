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
import { OpenAiProxyController } from './openai-proxy/openai-proxy.controller';
import { OpenAiProxyService } from './openai-proxy/openai-proxy.service';
import { ResourcesController } from './resources/resources.controller';
import { ResourcesService } from './resources/resources.service';
import { WorkflowRepository } from './workflows/workflow.repository';
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
      controllers: [SessionController, ...LEARNING_CONTROLLERS, ...LIBRARY_CONTROLLERS, ResourcesController, EventsController, ExecutionsController, WorkflowsController, OpenAiProxyController],
      providers: [
        // The configured keys, looked up by the guard and exchanged for sessions by the sign-in.
        { provide: ApiKeys, useValue: new ApiKeys(config.TOOLPATH_API_KEYS) },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        SubmitEventsService,
        TOOL_EVENT_READER,
        PipelineMetrics,
        WorkflowRepository,
        WorkflowsService,
        ExecutorClient,
        ExecutionsService,
        ExecutionStream,
        ...LEARNING_PROVIDERS,
        ...LIBRARY_PROVIDERS,
        OpenAiProxyService,
        ResourcesService,
      ],
    };
  }
}
