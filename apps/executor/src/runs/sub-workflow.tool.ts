import type { ExecutionStatus } from '@toolpath/contracts';
import { ToolError, abortableDelay, type BuiltinTool, type ToolCallContext } from '../tools/tool-error';
import { ExecutionRepository } from './execution.repository';
import { RunScheduler, isTerminalRun } from './run-scheduler.service';
import { RunStore } from './run-store';

const POLL_MS = 50;

/**
 * `workflow.run`: { definition, input? } → { executionId, status, results } once the child run
 * ends. The child is started with an idempotency key derived from the parent step, so a retried
 * or redelivered attempt waits for the same child instead of starting another. Cancelling the
 * parent cancels the child.
 */
export class SubWorkflowTool implements BuiltinTool {
  readonly name = 'workflow.run';

  constructor(
    private readonly scheduler: RunScheduler,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
  ) {}

  async call(parameters: Record<string, unknown>, ctx: ToolCallContext): Promise<unknown> {
    const { definition, input } = parameters;
    if (definition === undefined) throw new ToolError('invalid_parameters', 'workflow.run needs an inline "definition"', false);
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      throw new ToolError('invalid_parameters', 'workflow.run: "input" must be an object', false);
    }
    const started = await this.scheduler.start({
      tenantId: ctx.tenantId,
      definition,
      input: (input as Record<string, unknown> | undefined) ?? {},
      idempotencyKey: `sub-${ctx.executionId}-${ctx.stepId}`,
      parentExecutionId: ctx.executionId,
      depth: ctx.depth + 1,
    });
    if (!started.ok) throw new ToolError('invalid_parameters', `workflow.run: ${started.error.message}`, false);
    const childId = started.value.executionId;
    const onAbort = () => void this.scheduler.cancel(ctx.tenantId, childId, 'parent run cancelled').catch(() => undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const status = await this.statusOf(ctx.tenantId, childId);
        if (status && isTerminalRun(status)) break;
        await abortableDelay(POLL_MS, ctx.signal);
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const view = await this.scheduler.get(ctx.tenantId, childId);
    if (!view.ok) throw new ToolError('subworkflow_failed', `workflow.run: child ${childId} disappeared`, false);
    const results = Object.fromEntries(view.value.steps.filter((s) => s.status === 'COMPLETED').map((s) => [s.id, s.result ?? null]));
    if (view.value.status !== 'COMPLETED') {
      throw new ToolError('subworkflow_failed', `sub-workflow ${childId} ended ${view.value.status}${view.value.error ? `: ${view.value.error}` : ''}`, false);
    }
    return { executionId: childId, status: view.value.status, results };
  }

  private async statusOf(tenantId: string, id: string): Promise<ExecutionStatus | undefined> {
    const meta = await this.store.loadMeta(id);
    if (meta) return meta.status;
    return (await this.repo.get(tenantId, id))?.status;
  }
}
