import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@toolpath/platform';
import { gatewayAppOptions } from './gateway.app';
import { gatewayConfigSchema } from './gateway.config';
import { GatewayModule } from './gateway.module';

/**
 * Settings of the document's gateway: fixed, so the document never depends on who prints it.
 * Nothing is connected to (preview mode), so the URLs only have to parse.
 */
const DOCUMENT_ENV: NodeJS.ProcessEnv = { TOOLPATH_API_KEYS: 'openapi-document-key:docs', LOG_LEVEL: 'silent' };

/**
 * The OpenAPI document exactly as the gateway serves it at /docs-json, built without NATS, Mongo
 * or Redis: Nest's preview mode scans the modules and their routes but constructs no provider,
 * and the app is configured as main.ts configures it. The typed client is generated from this.
 * For a process that ends afterwards (the app is left open: see below).
 */
async function gatewayOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig(gatewayConfigSchema, DOCUMENT_ENV);
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.register(config) as never, new FastifyAdapter({ logger: false }), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  await gatewayAppOptions(config).configure?.(app);
  const response = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
  if (response.statusCode !== 200) throw new Error(`GET /docs-json answered ${response.statusCode}: ${response.body.slice(0, 200)}`);
  return response.json() as Record<string, unknown>;
}

// `node apps/gateway/dist/print-openapi.js` prints the document (scripts/api-client.mjs reads it).
if (require.main === module) {
  gatewayOpenApiDocument()
    .then((document) => {
      // Exits rather than closing the app: the queues dashboard's BullMQ queues are still opening
      // their lazy Redis connection, and closing them before it is up raises in BullMQ.
      process.stdout.write(`${JSON.stringify(document, null, 2)}\n`, () => process.exit(0));
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    });
}
