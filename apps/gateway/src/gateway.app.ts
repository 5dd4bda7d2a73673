import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApp, type CreateServiceOptions } from '@toolpath/platform';
import { setupOpenApi } from './docs/openapi';
import type { GatewayConfig } from './gateway.config';
import { API_PREFIX, GatewayModule } from './gateway.module';

/** Options the gateway app is built with, shared by main.ts and the tests. */
export function gatewayAppOptions(config: GatewayConfig): CreateServiceOptions {
  return {
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    configure: (app: NestFastifyApplication) => {
      app.setGlobalPrefix(API_PREFIX, {
        exclude: [
          { path: 'health', method: RequestMethod.ALL },
          { path: 'health/{*path}', method: RequestMethod.ALL },
          { path: 'metrics', method: RequestMethod.ALL },
        ],
      });
      setupOpenApi(app);
    },
  };
}

export function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  return createServiceApp(GatewayModule.register(config), gatewayAppOptions(config));
}
