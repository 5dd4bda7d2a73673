import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type ExecutionUpdate, type ExecutionView } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { ExecutorClient } from './executor.client';

const isTerminal = (status: string) => TERMINAL_EXECUTION_STATUSES.has(status as ExecutionStatus);

/**
 * `GET /executions/:id/stream` as server-sent events, written to the raw response (Fastify's
 * `reply.hijack()`): Nest's `@Sse()` would need an Observable bridge and answers errors after the
 * headers are sent, whereas here an unknown run or a missing executor is still a plain JSON error.
 *
 * Events: `state` (the run as `GET /executions/:id` shows it) first, then one `update` per
 * published ExecutionUpdate, then `end` (the final state) once the run is terminal, and the
 * stream closes. `: heartbeat` comments keep idle connections open. The NATS subscription is
 * made before the first read, so no update between the read and the subscription is lost (an
 * update may appear both in the state and after it; updates are idempotent).
 */
@Injectable()
export class ExecutionStream {
  private readonly log = new Logger(ExecutionStream.name);

  constructor(
    private readonly executor: ExecutorClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async stream(tenantId: string, executionId: string, reply: FastifyReply): Promise<void> {
    const pending: ExecutionUpdate[] = [];
    let deliver: ((u: ExecutionUpdate) => void) | undefined = undefined;
    const sub = this.executor.subscribeUpdates(tenantId, executionId, (u) => (deliver ? deliver(u) : pending.push(u)));

    let state: ExecutionView;
    try {
      state = await this.executor.get({ tenantId, executionId });
    } catch (err) {
      sub.unsubscribe();
      throw err;
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let closed = false;
    let finishing = false;
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), this.config.GATEWAY_SSE_HEARTBEAT_MS);
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      sub.unsubscribe();
      if (!res.writableEnded) res.end();
    };
    const write = (chunk: string) => {
      if (!closed && !res.writableEnded) res.write(chunk);
    };
    const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    res.on('close', close);

    const finish = async () => {
      if (finishing) return;
      finishing = true;
      let final: ExecutionView | undefined;
      try {
        final = await this.executor.get({ tenantId, executionId });
      } catch (err) {
        this.log.warn(`final state of ${executionId} unavailable: ${String((err as Error).message)}`);
      }
      send('end', final ?? { id: executionId });
      close();
    };

    send('state', state);
    if (isTerminal(state.status)) {
      send('end', state);
      close();
      return;
    }
    deliver = (u) => {
      if (closed || finishing) return;
      send('update', u);
      if (u.kind === 'run' && isTerminal(u.status)) void finish();
    };
    for (const u of pending.splice(0)) deliver(u);
  }
}
