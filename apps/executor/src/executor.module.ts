import { Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { DefaultPorts, STEP_QUEUE } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { ExecutorConfig } from './executor.config';
import { ExecutorApi } from './api/executor-api.service';
import { RunEvents } from './events/run-events.service';
import { ExecutorMetrics } from './executor.metrics';
import { AbortBroadcaster } from './runs/abort-broadcaster';
import { ExecutionRepository } from './runs/execution.repository';
import { ExecutionWriter } from './runs/execution-writer';
import { ExecutorQueues } from './runs/executor-queues';
import { RunAborts } from './runs/run-aborts';
import { RunFinalizer } from './runs/run-finalizer.service';
import { RunListBackfillService } from './runs/run-list-backfill';
import { RunPlans } from './runs/run-plans';
import { RunScheduler } from './runs/run-scheduler.service';
import { RunStore } from './runs/run-store';
import { StepWorker } from './runs/step.worker';
import { ToolInvoker } from './tools/tool-invoker.service';

export const EXECUTOR_SERVICE: ServiceInfo = { name: 'executor', defaultPort: DefaultPorts.executor };

/** ioredis options from a redis:// URL; BullMQ needs `maxRetriesPerRequest: null` for its workers. */
export function bullConnection(redisUrl: string) {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
}

@Module({})
export class ExecutorModule {
  static register(config: ExecutorConfig): DynamicModule {
    return {
      module: ExecutorModule,
      imports: [
        PlatformModule.forRoot({ service: EXECUTOR_SERVICE, config, uses: { nats: true, mongo: true, redis: true } }),
        // The hash tag keeps every key of a queue in one Redis Cluster slot.
        BullModule.forRoot({ connection: bullConnection(config.REDIS_URL), prefix: `{${config.TOOLPATH_QUEUE_PREFIX}}` }),
        BullModule.registerQueue({ name: STEP_QUEUE }),
      ],
      providers: [
        ExecutorMetrics,
        RunStore,
        RunPlans,
        ExecutionRepository,
        ExecutionWriter,
        ExecutorQueues,
        RunEvents,
        ToolInvoker,
        RunAborts,
        AbortBroadcaster,
        RunScheduler,
        RunFinalizer,
        StepWorker,
        ExecutorApi,
        // Old finished runs into the runs lists, in the background (does not hold readiness).
        RunListBackfillService,
      ],
    };
  }
}
