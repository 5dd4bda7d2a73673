import type { NatsConnection } from 'nats';
import { executionUpdatesSubject, type ExecutionStatus } from '@toolpath/contracts';
import { ToolError, abortError, type BuiltinTool, type ToolCallContext } from '../tools/tool-error';
import { ExecutionRepository } from './execution.repository';
import { RunScheduler } from './run-scheduler.service';
import { RunNotFound, RunRequestError } from './run-errors';
import { RunStore } from './run-store';
import { isTerminalRun } from './round-logic';

/** Core NATS may drop a message: the child's status is also read this often while waiting. */
const RECHECK_MS = 1000;

/**
 * `workflow.run`: { definition, input? } → { executionId, status, results } once the child run
 * ends. The child is started with an idempotency key derived from the parent step, so a retried
 * or redelivered attempt waits for the same child instead of starting another. Cancelling the
 * parent cancels the child. It waits for the child's terminal update on NATS (subscribed before
 * the first look at the child's status, so the end cannot slip between the two).
 */
export class SubWorkflowTool implements BuiltinTool {
  readonly name = 'workflow.run';

  constructor(
    private readonly scheduler: RunScheduler,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly nc: () => NatsConnection,
    private readonly subjectPrefix: string,
  ) {}

  async call(parameters: Record<string, unknown>, ctx: ToolCallContext): Promise<unknown> {
    const { definition, input } = parameters;
    if (definition === undefined) throw new ToolError('invalid_parameters', 'workflow.run needs an inline "definition"', false);
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      throw new ToolError('invalid_parameters', 'workflow.run: "input" must be an object', false);
    }
    const started = await this.scheduler
      .start({
        tenantId: ctx.tenantId,
        definition,
        input: (input as Record<string, unknown> | undefined) ?? {},
        idempotencyKey: `sub-${ctx.executionId}-${ctx.stepId}`,
        parentExecutionId: ctx.executionId,
        depth: ctx.depth + 1,
      })
      .catch((err: unknown) => {
        throw err instanceof RunRequestError ? new ToolError('invalid_parameters', `workflow.run: ${err.message}`, false) : err;
      });
    const childId = started.executionId;
    const onAbort = () => void this.scheduler.cancel(ctx.tenantId, childId, 'parent run cancelled').catch(() => undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let wake: () => void = () => undefined;
    const sub = this.nc().subscribe(executionUpdatesSubject(this.subjectPrefix, ctx.tenantId, childId), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const u = JSON.parse(new TextDecoder().decode(msg.data)) as { kind?: string; status?: string };
          if (u.kind === 'run' && typeof u.status === 'string' && isTerminalRun(u.status as ExecutionStatus)) wake();
        } catch {
          // Not an update: ignored.
        }
      },
    });
    try {
      for (;;) {
        const status = await this.statusOf(ctx.tenantId, childId);
        if (status && isTerminalRun(status)) break;
        if (ctx.signal.aborted) throw abortError(ctx.signal);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, RECHECK_MS);
          function done() {
            clearTimeout(timer);
            ctx.signal.removeEventListener('abort', done);
            resolve();
          }
          wake = done;
          ctx.signal.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      sub.unsubscribe();
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const view = await this.scheduler.get(ctx.tenantId, childId).catch((err: unknown) => {
      throw err instanceof RunNotFound ? new ToolError('subworkflow_failed', `workflow.run: child ${childId} disappeared`, false) : err;
    });
    const results = Object.fromEntries(view.steps.filter((s) => s.status === 'COMPLETED').map((s) => [s.id, s.result ?? null]));
    if (view.status !== 'COMPLETED') {
      throw new ToolError('subworkflow_failed', `sub-workflow ${childId} ended ${view.status}${view.error ? `: ${view.error}` : ''}`, false);
    }
    return { executionId: childId, status: view.status, results };
  }

  private async statusOf(tenantId: string, id: string): Promise<ExecutionStatus | undefined> {
    const meta = await this.store.loadMeta(id);
    if (meta) return meta.status;
    return (await this.repo.get(tenantId, id))?.status;
  }
}
