import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody, ApiError } from '@toolpath/platform';
import { QUEUES_COOKIE } from './queues-auth';
import { QueueDepth } from './queue-depth';

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
export async function setupQueuesDashboard(app: NestFastifyApplication): Promise<void> {
  // The same queues (and Redis connection) the overview's queue depth counts; closed with the app.
  const { queues, auth } = app.get(QueueDepth);

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Toolpath queues' } },
  });

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
}
