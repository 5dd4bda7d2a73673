import { Inject, Injectable } from '@nestjs/common';
import { executorAbortSubject, type ExecutorAbortMessage } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { ExecutorConfig } from '../executor.config';
import { RunAborts } from './run-aborts';

const encoder = new TextEncoder();

/**
 * Stops a run's running attempts on every executor: here at once, elsewhere through the abort
 * broadcast (`executorAbortSubject`), which every executor's API listens to and hands to `heard`.
 */
@Injectable()
export class AbortBroadcaster {
  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly nats: NatsClient,
    private readonly aborts: RunAborts,
  ) {}

  /** The subject of the broadcast. */
  get subject(): string {
    return executorAbortSubject(this.config.TOOLPATH_SUBJECT_PREFIX);
  }

  /** Aborts the run's attempts running here and tells the other executors to do the same. */
  abort(executionId: string, reason: string): void {
    this.aborts.abort(executionId, reason);
    const m: ExecutorAbortMessage = { executionId, reason };
    this.nats.nc.publish(this.subject, encoder.encode(JSON.stringify(m)));
  }

  /** A broadcast received (this executor's own included): aborts the run's attempts here. */
  heard(body: unknown): void {
    const m = body as Partial<ExecutorAbortMessage> | null;
    if (typeof m?.executionId === 'string') this.aborts.abort(m.executionId, String(m.reason ?? 'cancelled'));
  }
}
