import { Global, Module, RequestMethod, type DynamicModule, type OnModuleInit, type Provider, Inject, Optional } from '@nestjs/common';
import { MongooseModule, getConnectionToken } from '@nestjs/mongoose';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { Connection } from 'mongoose';
import type { BaseConfig } from './config/base-config';
import { APP_CONFIG, SERVICE_INFO, type ServiceInfo } from './config/tokens';
import { HealthController } from './health/health.controller';
import { HealthRegistry } from './health/health-registry';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { NatsClient } from './nats/nats-client';
import { RedisClient } from './redis/redis-client';

export interface PlatformOptions {
  service: ServiceInfo;
  config: BaseConfig;
  /** Which dependencies this service uses; each gets a client and a readiness check. */
  uses: { nats?: boolean; mongo?: boolean; redis?: boolean };
}

const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');

/**
 * Wires what every Toolpath service has in common, so each app module lists only its features:
 * validated config, JSON logs, the NATS/Mongo/Redis clients it uses, `/health`, `/metrics`.
 */
@Global()
@Module({})
export class PlatformModule implements OnModuleInit {
  constructor(
    @Inject(PLATFORM_OPTIONS) private readonly options: PlatformOptions,
    private readonly health: HealthRegistry,
    @Optional() private readonly nats?: NatsClient,
    @Optional() private readonly redis?: RedisClient,
    @Optional() @Inject(getConnectionToken()) private readonly mongo?: Connection,
  ) {}

  static forRoot(options: PlatformOptions): DynamicModule {
    const { config, service, uses } = options;
    const providers: Provider[] = [
      { provide: PLATFORM_OPTIONS, useValue: options },
      { provide: APP_CONFIG, useValue: config },
      { provide: SERVICE_INFO, useValue: service },
      HealthRegistry,
      MetricsService,
    ];
    const exported: Array<Provider | symbol | DynamicModule> = [APP_CONFIG, SERVICE_INFO, HealthRegistry, MetricsService];
    const imports: DynamicModule[] = [
      LoggerModule.forRoot({
        pinoHttp: {
          level: config.LOG_LEVEL,
          base: { service: service.name },
          transport: config.LOG_FORMAT === 'pretty' ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
          redact: ['req.headers.authorization'],
        },
        // nestjs-pino's default route '*' is legacy syntax for Nest 11's router: under the gateway's
        // global prefix it logs an "Unsupported route path" warning at every start.
        forRoutes: [{ method: RequestMethod.ALL, path: '{*path}' }],
        // Probes and scrapes every few seconds would drown the request log.
        exclude: [
          { method: RequestMethod.ALL, path: 'health' },
          { method: RequestMethod.ALL, path: 'health/{*path}' },
          { method: RequestMethod.ALL, path: 'metrics' },
        ],
      }),
      TerminusModule.forRoot({ logger: false }),
    ];
    if (uses.nats) {
      providers.push(NatsClient);
      exported.push(NatsClient);
    }
    if (uses.redis) {
      providers.push(RedisClient);
      exported.push(RedisClient);
    }
    if (uses.mongo) {
      imports.push(
        MongooseModule.forRoot(config.MONGO_URL, {
          dbName: config.MONGO_DB,
          serverSelectionTimeoutMS: config.DEPENDENCY_TIMEOUT_MS,
          connectTimeoutMS: config.DEPENDENCY_TIMEOUT_MS,
          socketTimeoutMS: 60_000,
          maxPoolSize: 20,
          autoIndex: false,
          autoCreate: false,
          // The service keeps running while the database is away; repositories retry.
          bufferCommands: false,
          lazyConnection: false,
        } as Parameters<typeof MongooseModule.forRoot>[1]),
      );
      exported.push(MongooseModule);
    }
    return {
      module: PlatformModule,
      global: true,
      imports,
      controllers: [HealthController, MetricsController],
      providers,
      exports: exported,
    };
  }

  async onModuleInit(): Promise<void> {
    if (this.nats) {
      const nats = this.nats;
      await nats.connect();
      this.health.register('nats', () => nats.ping());
    }
    if (this.redis) {
      const redis = this.redis;
      this.health.register('redis', () => redis.ping());
    }
    if (this.mongo) {
      const mongo = this.mongo;
      this.health.register('mongo', async () => {
        if (mongo.readyState !== 1 || !mongo.db) throw new Error('not connected');
        await mongo.db.admin().command({ ping: 1 });
      });
    }
    void this.options;
  }
}
