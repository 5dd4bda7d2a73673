import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { STEP_QUEUE } from '@toolpath/contracts';
import { APP_CONFIG, ApiError } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { QueuesAuth } from './queues-auth';

/** The job states counted, in the order the console shows them. */
export const COUNTED_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'failed', 'completed', 'paused'] as const;
export type CountedState = (typeof COUNTED_STATES)[number];

export interface QueueDepthView {
  queues: Array<{ name: string; counts: Record<CountedState, number> }>;
}

/**
 * The executor's queues, counted (BullMQ's getJobCounts), for the console's overview. The
 * queues are shared by every tenant, so the same rule as the /queues dashboard decides who may
 * see them. Its own lazy Redis connection: a Redis that is down is a 503, never a crash.
 */
@Injectable()
export class QueueDepth implements OnModuleDestroy {
  private readonly redis: IORedis;
  private readonly queues: Queue[];
  private readonly auth: QueuesAuth;
  private readonly timeoutMs: number;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.redis = new IORedis(config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: config.DEPENDENCY_TIMEOUT_MS, enableOfflineQueue: true });
    this.redis.on('error', () => undefined);
    this.queues = [STEP_QUEUE].map((name) => new Queue(name, { connection: this.redis, prefix: `{${config.TOOLPATH_QUEUE_PREFIX}}` }));
    for (const q of this.queues) q.on('error', () => undefined);
    this.auth = new QueuesAuth(config);
    this.timeoutMs = config.DEPENDENCY_TIMEOUT_MS;
  }

  async counts(tenantId: string): Promise<QueueDepthView> {
    const denied = this.auth.denial(tenantId);
    if (denied) throw new ApiError(403, denied);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiError(503, `Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const counted = await Promise.race([Promise.all(this.queues.map(async (q) => ({ name: q.name, counts: (await q.getJobCounts(...COUNTED_STATES)) as Record<CountedState, number> }))), timeout]);
      return { queues: counted.map((q) => ({ name: q.name, counts: Object.fromEntries(COUNTED_STATES.map((s) => [s, q.counts[s] ?? 0])) as Record<CountedState, number> })) };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(503, `Redis is unavailable: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The connection first: a queue still waiting for a Redis that never answered would otherwise keep retrying. */
  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
    await Promise.allSettled(this.queues.map((q) => q.close()));
  }
}
