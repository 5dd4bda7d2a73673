import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import type { BaseConfig } from '../config/base-config';
import { APP_CONFIG } from '../config/tokens';

/** The service's Redis connection (BullMQ makes its own; this one serves health and small state). */
@Injectable()
export class RedisClient implements OnApplicationShutdown {
  readonly redis: Redis;

  constructor(@Inject(APP_CONFIG) config: BaseConfig) {
    this.redis = new Redis(config.REDIS_URL, {
      lazyConnect: false,
      connectTimeout: config.DEPENDENCY_TIMEOUT_MS,
      commandTimeout: config.DEPENDENCY_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // ioredis emits 'error' on every failed reconnect; health reports it, the process must not die.
    this.redis.on('error', () => undefined);
  }

  async ping(): Promise<void> {
    const answer = await this.redis.ping();
    if (answer !== 'PONG') throw new Error(`unexpected answer ${answer}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
