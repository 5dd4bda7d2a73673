import { Logger as NestLogger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { BaseConfig } from './config/base-config';
import type { ServiceInfo } from './config/tokens';
import { ApiError, ApiExceptionFilter, errorFormatFor, type ErrorFormat } from './http/api-exception.filter';
import { RouteMethods } from './http/route-methods';
import { MetricsService } from './metrics/metrics.service';

export interface CreateServiceOptions {
  /** Largest request body accepted, in bytes (Fastify answers 413 beyond it). */
  bodyLimit?: number;
  /** Largest request head (request line and headers) in bytes; Node's default is 16 KiB. */
  maxHeaderBytes?: number;
  /** Error bodies of paths that answer in another shape than the API's (see `ErrorFormat`). */
  errorFormats?: ErrorFormat[];
  /** Runs before listening: OpenAPI, dashboards, extra routes. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Longest path parameter the router accepts, as sent (percent-encoded); longer ones answer 414.
 * The longest id a route takes is 256 characters, and a character is at most 12 once encoded
 * (4 UTF-8 bytes, 3 characters each), so every id a route's schema allows gets through.
 */
export const MAX_PATH_PARAMETER_LENGTH = 256 * 12;

/** Builds a service's Nest application on Fastify with the platform's logger and error format. */
export async function createServiceApp(rootModule: unknown, opts: CreateServiceOptions = {}): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    rootModule as never,
    new FastifyAdapter({
      bodyLimit: opts.bodyLimit ?? 1024 * 1024,
      ...(opts.maxHeaderBytes ? { http: { maxHeaderSize: opts.maxHeaderBytes } } : {}),
      logger: false,
      routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
      // Errors the router raises before any route runs (a path parameter over the limit, a URL
      // that does not decode) would otherwise leave in Fastify's own shape, not the API's.
      frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const error = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new ApiError(414, `a path parameter is over ${MAX_PATH_PARAMETER_LENGTH} characters`, { code: err.code }) : err;
        const format = errorFormatFor(opts.errorFormats, request.url);
        const body = format(error);
        void reply.code(body.statusCode).send(body);
      },
    }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  // Every route as Fastify declares it (Nest registers them later, at init): for 405s.
  const routes = new RouteMethods();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (r) => routes.add(r.method, r.url));
  app.useGlobalFilters(new ApiExceptionFilter(routes, opts.errorFormats));
  app.enableShutdownHooks();
  observeHttpRequests(app);
  await opts.configure?.(app);
  return app;
}

/** The port a service listens on: `<NAME>_PORT`, then `PORT` for the gateway, then its default. */
export function servicePort(service: ServiceInfo, env: NodeJS.ProcessEnv = process.env): number {
  const own = env[`${service.name.toUpperCase()}_PORT`];
  const shared = service.name === 'gateway' ? env.PORT : undefined;
  const raw = own || shared;
  if (raw === undefined || raw === '') return service.defaultPort;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${raw} for ${service.name}`);
  return port;
}

/** Entry point of every app's main.ts: create, listen, and log where it is. */
export async function runService(
  service: ServiceInfo,
  config: BaseConfig,
  rootModule: unknown,
  opts: CreateServiceOptions = {},
): Promise<INestApplication> {
  const app = await createServiceApp(rootModule, opts);
  const port = servicePort(service);
  await app.listen({ port, host: config.HOST });
  new NestLogger('Bootstrap').log(`${service.name} listening on http://${config.HOST}:${port} (health /health, metrics /metrics)`);
  return app;
}

/** Request count and latency by route template (not raw URL, which would explode the labels). */
function observeHttpRequests(app: NestFastifyApplication): void {
  const histogram = app
    .get(MetricsService)
    .histogram('toolpath_http_request_duration_seconds', 'HTTP requests by method, route and status', ['method', 'route', 'status'], [
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      if (route !== '/metrics') {
        histogram.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      }
      done();
    });
}
