import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import IORedis from 'ioredis';
import { STEP_QUEUE } from '@toolpath/contracts';
import { toErrorBody, ApiError } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { QueuesAuth, QUEUES_COOKIE } from './queues-auth';

/** Where the BullMQ dashboard is served (outside the API prefix, like /docs). */
export const QUEUES_PATH = '/queues';

/**
 * The executor's `steps` queue in bull-board, at /queues, behind the API keys.
 *
 * A browser cannot send `Authorization`, so besides `Bearer <key>` the dashboard accepts
 * `/queues?key=<api key>` once: it answers with a redirect to /queues and an HttpOnly,
 * SameSite=Strict cookie scoped to /queues, which the UI's own asset and API calls then carry.
 * The cookie holds the key's SHA-256 digest, not the key, and only ever opens /queues.
 * Queue jobs belong to every tenant: GATEWAY_QUEUES_TENANTS limits which tenants' keys get in.
 */
export async function setupQueuesDashboard(app: NestFastifyApplication, config: GatewayConfig): Promise<void> {
  const prefix = `{${config.TOOLPATH_QUEUE_PREFIX}}`;
  // One lazy connection shared by the queues; BullMQ wants no per-request retry limit.
  const redis = new IORedis(config.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: config.DEPENDENCY_TIMEOUT_MS });
  redis.on('error', () => undefined);
  const queues = [STEP_QUEUE].map((name) => new Queue(name, { connection: redis, prefix }));
  // Redis being down must not crash the gateway: the dashboard's own requests fail instead.
  for (const q of queues) q.on('error', () => undefined);

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Toolpath queues' } },
  });

  const auth = new QueuesAuth(config);
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  await fastify.register(
    async (scope: FastifyInstance) => {
      scope.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
        const outcome = auth.check(req);
        if (outcome.kind === 'denied') {
          const body = toErrorBody(new ApiError(outcome.status, outcome.message, { field: 'authorization' }));
          return reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
        }
        if (outcome.kind === 'key-in-query') {
          return reply
            .header('set-cookie', `${QUEUES_COOKIE}=${outcome.cookie}; Path=${QUEUES_PATH}; HttpOnly; SameSite=Strict${req.protocol === 'https' ? '; Secure' : ''}`)
            .header('cache-control', 'no-store')
            .redirect(QUEUES_PATH, 302);
        }
        return undefined;
      });
      await scope.register(serverAdapter.registerPlugin() as never);
    },
    { prefix: QUEUES_PATH },
  );
  fastify.addHook('onClose', async () => {
    await Promise.allSettled(queues.map((q) => q.close()));
    redis.disconnect();
  });
}
