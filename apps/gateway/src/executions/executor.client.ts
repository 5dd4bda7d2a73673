import { HttpException, Inject, Injectable } from '@nestjs/common';
import { ErrorCode, JSONCodec, type NatsError, type Subscription } from 'nats';
import {
  executionUpdatesSubject,
  executorSubjects,
  type ExecutionRef,
  type ExecutionUpdate,
  type ExecutionView,
  type ExecutorReply,
  type ListExecutionsRequest,
  type StartExecutionRequest,
} from '@toolpath/contracts';
import { APP_CONFIG, ApiError, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

export interface StartedExecution {
  executionId: string;
  status: string;
  created: boolean;
}

export interface ExecutionList {
  items: ExecutionView[];
  nextCursor: string | null;
}

const codec = JSONCodec<unknown>();

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/**
 * The executor over NATS request/reply (its subjects are served as a queue group, so one
 * executor answers each request). The only code in the gateway that talks to it: replies are
 * checked and mapped to HTTP here, and an executor that does not answer is a 503 naming it.
 */
@Injectable()
export class ExecutorClient {
  private readonly subjects: ReturnType<typeof executorSubjects>;

  constructor(
    private readonly nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.subjects = executorSubjects(config.TOOLPATH_SUBJECT_PREFIX);
  }

  start(req: StartExecutionRequest): Promise<StartedExecution> {
    return this.request<StartedExecution>(this.subjects.start, req);
  }

  get(ref: ExecutionRef): Promise<ExecutionView> {
    return this.request<ExecutionView>(this.subjects.get, ref);
  }

  list(req: ListExecutionsRequest): Promise<ExecutionList> {
    return this.request<ExecutionList>(this.subjects.list, req);
  }

  cancel(ref: ExecutionRef): Promise<ExecutionView> {
    return this.request<ExecutionView>(this.subjects.cancel, ref);
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

  private async request<T>(subject: string, payload: unknown): Promise<T> {
    let reply: unknown;
    try {
      const msg = await this.nats.nc.request(subject, codec.encode(payload), { timeout: this.config.GATEWAY_EXECUTOR_TIMEOUT_MS });
      reply = codec.decode(msg.data);
    } catch (err) {
      throw unavailable(subject, err, this.config.GATEWAY_EXECUTOR_TIMEOUT_MS);
    }
    if (!isReply(reply)) throw new ApiError(502, `the executor answered ${subject} with something that is not an executor reply`);
    if (reply.ok) return reply.value as T;
    const { status, code, message, details } = reply.error;
    const statusCode = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    throw new HttpException(
      { statusCode, error: REASONS[statusCode] ?? 'Error', message, details: details ?? { code } },
      statusCode,
    );
  }
}

function unavailable(subject: string, err: unknown, timeoutMs: number): ApiError {
  const code = (err as NatsError)?.code;
  const why =
    code === ErrorCode.NoResponders
      ? 'no executor is listening'
      : code === ErrorCode.Timeout
        ? `no answer within ${timeoutMs} ms`
        : `request failed: ${String((err as Error)?.message ?? err)}`;
  return new ApiError(503, `the executor is unavailable (${why} on ${subject})`, { dependency: 'executor', subject });
}

function isReply(value: unknown): value is ExecutorReply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.ok === true) return 'value' in r;
  if (r.ok !== false || typeof r.error !== 'object' || r.error === null) return false;
  const e = r.error as Record<string, unknown>;
  return typeof e.status === 'number' && typeof e.message === 'string';
}

function isUpdate(value: unknown): value is ExecutionUpdate {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  return typeof u.executionId === 'string' && typeof u.tenantId === 'string' && typeof u.status === 'string' && (u.kind === 'step' || u.kind === 'run');
}
