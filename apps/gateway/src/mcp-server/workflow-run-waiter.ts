import { Injectable } from '@nestjs/common';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus, type ExecutionUpdate, type ExecutionView } from '@toolpath/contracts';
import { TERMINAL_STEP_STATUSES, type StepStatus } from '@toolpath/workflow';
import { ExecutorClient } from '../executions/executor.client';
import type { McpCallExtras } from './mcp-tool-provider';

export interface WaitedRun {
  view: ExecutionView;
  /** False when the wait ended first (or the call was cancelled): the run goes on. */
  finished: boolean;
}

const isTerminalRun = (status: string) => TERMINAL_EXECUTION_STATUSES.has(status as ExecutionStatus);
const isTerminalStep = (status: string) => TERMINAL_STEP_STATUSES.has(status as StepStatus);

/**
 * Waits for a started run, reporting each finished step as MCP progress (`progress` = steps
 * finished so far, `total` = steps of the run), until the run ends, `waitMs` passes or the call
 * is cancelled. It listens to the executor's updates (as `GET /executions/:id/stream` does) and
 * reads the run once after subscribing, so steps that finished before the subscription count.
 * Cancelling the MCP call stops the wait, not the run.
 */
@Injectable()
export class WorkflowRunWaiter {
  constructor(private readonly executor: ExecutorClient) {}

  async wait(tenantId: string, executionId: string, waitMs: number, extras: McpCallExtras): Promise<WaitedRun> {
    const until = Date.now() + waitMs;
    const done = new Set<string>();
    let total = 0;
    let reported = 0;
    let wake: (() => void) | undefined;
    let runEnded = false;
    const report = async (message: string) => {
      if (!extras.progress || done.size <= reported) return;
      reported = done.size;
      await extras.progress(reported, Math.max(total, reported), message).catch(() => undefined);
    };
    const onUpdate = (u: ExecutionUpdate) => {
      if (u.kind === 'step' && u.stepId && isTerminalStep(u.status) && !done.has(u.stepId)) {
        done.add(u.stepId);
        void report(`step ${u.stepId} ${u.status.toLowerCase()}`);
      }
      if (u.kind === 'run' && isTerminalRun(u.status)) {
        runEnded = true;
        wake?.();
      }
    };
    const sub = this.executor.subscribeUpdates(tenantId, executionId, onUpdate);
    try {
      let view = await this.executor.get({ tenantId, executionId });
      total = view.steps.length;
      for (const step of view.steps) if (isTerminalStep(step.status)) done.add(step.id);
      await report(`${done.size} of ${total} steps finished`);
      if (isTerminalRun(view.status)) return { view, finished: true };
      const remaining = until - Date.now();
      if (remaining > 0 && !extras.signal.aborted && !runEnded) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(finish, remaining);
          function finish() {
            clearTimeout(timer);
            extras.signal.removeEventListener('abort', finish);
            resolve();
          }
          wake = finish;
          extras.signal.addEventListener('abort', finish, { once: true });
        });
      }
      view = await this.executor.get({ tenantId, executionId });
      return { view, finished: isTerminalRun(view.status) };
    } finally {
      sub.unsubscribe();
    }
  }
}
