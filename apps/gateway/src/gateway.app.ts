import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { createServiceApp, type CreateServiceOptions } from '@toolpath/platform';
import { consoleDir, serveConsole } from './console/console-static';
import { setupOpenApi } from './docs/openapi';
import type { GatewayConfig } from './gateway.config';
import { API_PREFIX, GatewayModule } from './gateway.module';
import { OPENAI_PROXY_ROUTES } from './openai-proxy/openai-proxy.controller';
import { toOpenAiError } from './openai-proxy/openai-error.filter';
import { OTLP_TRACES_PATH, registerOtlpRoutes } from './otlp/otlp-routes';
import { toOtlpJsonStatus } from './otlp/otlp-status';
import { MCP_PATH } from './mcp-server/mcp-http.controller';
import { setupQueuesDashboard } from './queues/queues-dashboard';
import { installJsonParser } from './workflows/workflow-json.parser';

/** Options the gateway app is built with, shared by main.ts and the tests. */
export function gatewayAppOptions(config: GatewayConfig): CreateServiceOptions {
  return {
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    // A query may carry 10,000 characters of intent, up to 120 KB once percent-encoded.
    maxHeaderBytes: 256 * 1024,
    errorFormats: [
      // OTLP clients read a google.rpc.Status (POST /v1/traces answers its own errors; this is for other methods).
      { pathPrefix: OTLP_TRACES_PATH, format: toOtlpJsonStatus },
      // OpenAI clients read errors of the /v1 routes in OpenAI's shape, a body that does not parse too.
      { pathPrefix: '/v1/', format: toOpenAiError },
    ],
    configure: async (app: NestFastifyApplication) => {
      installJsonParser(app, config.GATEWAY_BODY_LIMIT_BYTES);
      // The console's session cookie (auth/session-cookie.ts).
      await app.register(fastifyCookie);
      app.setGlobalPrefix(API_PREFIX, {
        exclude: [
          { path: 'health', method: RequestMethod.ALL },
          { path: 'health/{*path}', method: RequestMethod.ALL },
          { path: 'metrics', method: RequestMethod.ALL },
          ...OPENAI_PROXY_ROUTES,
          // Toolpath's MCP endpoint (docs/MCP.md): where MCP clients are told to connect.
          { path: MCP_PATH, method: RequestMethod.ALL },
        ],
      });
      setupOpenApi(app);
      // POST /v1/traces: a Fastify scope of its own, outside the prefix and the OpenAPI document (otlp-routes.ts).
      await registerOtlpRoutes(app, config);
      await setupQueuesDashboard(app, config);
      await serveConsole(app, config.GATEWAY_CONSOLE_DIR ?? consoleDir());
    },
  };
}

export function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  return createServiceApp(GatewayModule.register(config), gatewayAppOptions(config));
}
