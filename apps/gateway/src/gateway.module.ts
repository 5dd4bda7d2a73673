import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import { ApiKeyGuard } from './auth/api-key.guard';
import { EventReadsService } from './events/event-reads.service';
import { EventsController } from './events/events.controller';
import { PipelineMetrics } from './events/pipeline.metrics';
import { SubmitEventsService } from './events/submit-events.service';
import type { GatewayConfig } from './gateway.config';

export const GATEWAY_SERVICE: ServiceInfo = { name: 'gateway', defaultPort: DefaultPorts.gateway };
/** Every REST route of the product lives under this prefix (health, metrics and docs do not). */
export const API_PREFIX = 'api/v1';

@Module({})
export class GatewayModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot({ service: GATEWAY_SERVICE, config, uses: { nats: true, mongo: true } })],
      controllers: [EventsController],
      providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }, SubmitEventsService, EventReadsService, PipelineMetrics],
    };
  }
}
