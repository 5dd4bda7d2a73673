import { Inject, Injectable } from '@nestjs/common';
import { JSONCodec, type Subscription } from 'nats';
import {
  executionUpdatesSubject,
  executorSubjects,
  type ExecutionRef,
  type ExecutionUpdate,
  type ExecutionView,
  type ExecutorRequests,
  type ListExecutionsReply,
  type ListAllExecutionsRequest,
  type ListExecutionsRequest,
  type StartExecutionReply,
  type StartExecutionRequest,
} from '@toolpath/contracts';
import { APP_CONFIG, NatsClient, NatsNoResponders, NatsRequestClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

const codec = JSONCodec<unknown>();
/** How long a read keeps trying while no executor listens (one is restarting or taking over). */
const READ_RETRY_MS = 1000;

/**
 * The executor over NATS request/reply (its subjects are served as a queue group, so one
 * executor answers each request). The only code in the gateway that talks to it; what fails is a
 * named error (`NatsNoResponders`, `NatsErrorReply`, ...) that the HTTP edge maps to a status.
 */
@Injectable()
export class ExecutorClient {
  private readonly client: NatsRequestClient<ExecutorRequests>;

  constructor(
    private readonly nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.client = new NatsRequestClient({
      service: 'executor',
      subjects: executorSubjects(config.TOOLPATH_SUBJECT_PREFIX),
      nats,
      timeoutMs: config.GATEWAY_EXECUTOR_TIMEOUT_MS,
    });
  }

  /** `NatsPayloadTooLarge` (a 413) at once when a run's input alone is over what NATS carries to the executor. */
  assertInputFits(input: unknown): void {
    if (input !== undefined) this.client.assertFits('start', { input });
  }

  start(req: StartExecutionRequest): Promise<StartExecutionReply> {
    return this.client.request('start', req);
  }

  get(ref: ExecutionRef): Promise<ExecutionView> {
    return this.read(() => this.client.request('get', ref));
  }

  list(req: ListExecutionsRequest): Promise<ListExecutionsReply> {
    return this.read(() => this.client.request('list', req));
  }

  listAll(req: ListAllExecutionsRequest): Promise<ListExecutionsReply> {
    return this.read(() => this.client.request('listAll', req));
  }

  /**
   * A read (safe to repeat) that found no executor listening is tried again for a moment: while
   * an executor dies or restarts, NATS may briefly have nobody in the queue group (or route to a
   * connection that just closed). A read that still fails is a 503 with Retry-After (the
   * exception filter adds it), which clients treat as "try again".
   */
  private async read<T>(request: () => Promise<T>): Promise<T> {
    const until = Date.now() + READ_RETRY_MS;
    for (;;) {
      try {
        return await request();
      } catch (err) {
        if (!(err instanceof NatsNoResponders) || Date.now() >= until) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  cancel(ref: ExecutionRef): Promise<ExecutionView> {
    return this.client.request('cancel', ref);
  }

  /** Updates of one run as they are published; call `unsubscribe()` on the result when done. */
  subscribeUpdates(tenantId: string, executionId: string, onUpdate: (u: ExecutionUpdate) => void): Subscription {
    return this.nats.nc.subscribe(executionUpdatesSubject(this.config.TOOLPATH_SUBJECT_PREFIX, tenantId, executionId), {
      callback: (err, msg) => {
        if (err) return;
        let update: unknown;
        try {
          update = codec.decode(msg.data);
        } catch {
          return;
        }
        if (isUpdate(update) && update.executionId === executionId && update.tenantId === tenantId) onUpdate(update);
      },
    });
  }
}

function isUpdate(value: unknown): value is ExecutionUpdate {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  return typeof u.executionId === 'string' && typeof u.tenantId === 'string' && typeof u.status === 'string' && (u.kind === 'step' || u.kind === 'run');
}
