import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { STEP_QUEUE, stepIdempotencyKey, type AttemptKind } from '@toolpath/contracts';
import { APP_CONFIG, HealthRegistry } from '@toolpath/platform';
import { renderParameters, type TemplateContext, type WorkflowStep } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import { RunEvents } from '../events/run-events.service';
import { ExecutorMetrics } from '../executor.metrics';
import { ToolInvoker } from '../tools/tool-invoker.service';
import { ToolError } from '../tools/tool-error';
import { retryDelayMs, capResult } from './backoff';
import { ExecutorQueues, STEP_BACKOFF, stepJobId, type StepJobData } from './executor-queues';
import { RunAborts } from './run-aborts';
import { RunPlans, type RunPlan } from './run-plans';
import { RunScheduler } from './run-scheduler.service';
import { templateContext } from './round-logic';
import { pendingStep, type RunSnapshot, type StepState } from './run-state';
import { RunStore, snapshotOf } from './run-store';

/**
 * Renders a step's parameters, except the inline `definition` of `workflow.run`: its templates
 * belong to the child run and are rendered there, against the child's input.
 */
export function renderStepParameters(tool: string, parameters: Record<string, unknown>, context: TemplateContext): Record<string, unknown> {
  if (tool !== 'workflow.run' || !Object.prototype.hasOwnProperty.call(parameters, 'definition')) return renderParameters(parameters, context);
  const { definition, ...rest } = parameters;
  return { ...renderParameters(rest, context), definition };
}

/** Marks an error thrown only so that BullMQ schedules the next attempt. */
class RetryableStepError extends Error {}

/**
 * Runs one attempt of one step. The step's state in Redis, not the job, is the truth: a
 * redelivered job whose step already ended only advances the run.
 */
@Processor(STEP_QUEUE, { autorun: false })
export class StepWorker extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger('StepWorker');
  private stopped = false;
  /** Deliveries being processed here, by job id: what each ended with (undefined: success). */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly store: RunStore,
    private readonly scheduler: RunScheduler,
    private readonly tools: ToolInvoker,
    private readonly events: RunEvents,
    private readonly metrics: ExecutorMetrics,
    private readonly aborts: RunAborts,
    private readonly queues: ExecutorQueues,
    private readonly health: HealthRegistry,
    private readonly plans: RunPlans,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // Worker settings come from the validated config, which decorators cannot read.
    Object.assign(this.worker.opts, {
      lockDuration: this.config.EXECUTOR_LOCK_DURATION_MS,
      stalledInterval: this.config.EXECUTOR_STALLED_INTERVAL_MS,
      maxStalledCount: 10,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, _err?: Error, job?: Job<StepJobData>) =>
          type === STEP_BACKOFF ? retryDelayMs(job?.data.backoff, attemptsMade) : 0,
      },
    });
    this.worker.concurrency = this.config.EXECUTOR_CONCURRENCY;
    this.worker.on('error', (err) => this.log.warn(`steps worker: ${err.message}`));
    void this.worker
      .run()
      .catch((err: Error) => this.log.error(`steps worker stopped: ${err.message}`))
      .finally(() => (this.stopped = true));
    this.health.register('queue', async () => {
      if (this.stopped || !this.worker.isRunning()) throw new Error('step worker is not running');
      await this.queues.ping();
    });
    this.queues.counts().catch(() => undefined);
    this.metrics.registerQueueDepth(() => this.queues.counts());
  }

  /**
   * A job comes back while this process still runs it when its lock lapsed (the process was too
   * slow to renew it in time: the stalled check does not know who holds a job, only that its lock
   * is gone). Running the attempt again would call the tool twice, concurrently; instead the new
   * delivery waits for the running one and ends the job as it would have (done, retry or failed)
   * under the lock it now holds. An attempt that stopped before its outcome was written (a busy
   * tenant, a Redis error) is processed again as usual.
   */
  async process(job: Job<StepJobData>, token?: string): Promise<void> {
    const key = job.id ?? stepJobId(job.data.executionId, job.data.stepId);
    for (let earlier = this.inFlight.get(key); earlier; earlier = this.inFlight.get(key)) {
      const outcome = await earlier;
      if (this.inFlight.get(key) === earlier) this.inFlight.delete(key);
      if (outcome === undefined) return;
      if (outcome instanceof RetryableStepError || outcome instanceof UnrecoverableError) throw outcome;
    }
    const delivery = this.processDelivery(job, token);
    const outcome = delivery.then(
      () => undefined,
      (err: unknown) => err ?? new Error('step attempt failed'),
    );
    this.inFlight.set(key, outcome);
    try {
      await delivery;
    } finally {
      if (this.inFlight.get(key) === outcome) this.inFlight.delete(key);
    }
  }

  private async processDelivery(job: Job<StepJobData>, token?: string): Promise<void> {
    const { executionId, stepId, tenantId } = job.data;
    let plan = this.plans.get(executionId);
    if (!plan) {
      const loaded = await this.store.loadDefinitionAndMeta(executionId);
      if (!loaded) return;
      plan = this.plans.remember(executionId, loaded.definition, loaded.meta);
    }
    const step = plan.step.get(stepId);
    if (!step) return;
    const timeoutMs = step.timeoutMs ?? this.config.EXECUTOR_STEP_TIMEOUT_MS;
    const slot = job.id ?? stepJobId(executionId, stepId);
    // One round trip: run and step still live, a tenant slot, the step RUNNING, and what its
    // templates read (and the run's meta, the first time this executor needs it).
    const begun = await this.store.beginStep(
      executionId,
      stepId,
      { tenantId, member: slot, leaseMs: timeoutMs + this.config.EXECUTOR_LOCK_DURATION_MS, limit: this.config.EXECUTOR_TENANT_MAX_RUNNING_STEPS },
      !plan.liveMeta,
      plan.reads.get(stepId) ?? [],
    );
    if (begun.kind === 'gone' || begun.kind === 'ended') {
      this.plans.forget(executionId);
      return;
    }
    if (begun.kind === 'state') {
      // A redelivered job whose step has moved on (its executor died after the step's end):
      // the run may not have been advanced, or a step marked QUEUED may lack its job.
      await this.scheduler.advance(executionId, { repair: true });
      return;
    }
    if (begun.kind === 'busy') {
      await job.moveToDelayed(Date.now() + 50 + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    if (begun.kind === 'held') {
      // Another executor, still alive, runs this attempt: look again once it has had time to end
      // it (its end moves the step on, and this job then only advances the run) or to die.
      await job.moveToDelayed(Date.now() + Math.min(begun.forMs, 1000) + Math.floor(Math.random() * 200), token);
      throw new DelayedError();
    }
    if (begun.meta) this.plans.rememberMeta(plan, begun.meta);
    const meta = plan.liveMeta ?? begun.meta;
    if (!meta) throw new Error(`run ${executionId}: its meta is missing`);
    // Only the steps this one may read (and itself): a wide run costs O(1) per step, not O(steps).
    const steps: Record<string, StepState> = { ...begun.steps, [stepId]: begun.state };
    for (const s of plan.reads.get(stepId) ?? []) steps[s] ??= pendingStep();
    const run: RunSnapshot = { meta, definition: plan.definition, steps };
    this.scheduler.publishStep(run, stepId);
    let ended = false;
    try {
      const unrecoverable = await this.attempt(job, run, plan, step, begun.state, begun.attemptKind, timeoutMs, slot, () => (ended = true));
      if (unrecoverable !== undefined) throw new UnrecoverableError(unrecoverable);
    } finally {
      if (!ended) await this.store.releaseTenantSlot(tenantId, slot).catch(() => undefined);
    }
  }

  /** Runs the attempt begun as `running`; returns the error of a step that failed for good. */
  private async attempt(
    job: Job<StepJobData>,
    run: RunSnapshot,
    plan: RunPlan,
    step: WorkflowStep,
    running: StepState,
    attemptKind: AttemptKind,
    timeoutMs: number,
    slot: string,
    slotReleased: () => void,
  ): Promise<string | undefined> {
    const { executionId, stepId } = job.data;
    const attempt = running.attempts;
    const startedAt = Date.now();
    const firstStart = running.startedAt ?? new Date(startedAt).toISOString();
    const controller = this.aborts.register(executionId);
    try {
      let parameters: Record<string, unknown> = {};
      let result: unknown;
      let error: ToolError | undefined;
      const timer = setTimeout(() => controller.abort(new ToolError('timeout', `step ${stepId} timed out after ${timeoutMs} ms`, true)), timeoutMs);
      try {
        parameters = renderStepParameters(step.tool, step.parameters, templateContext(run));
        result = await this.tools.call(step.tool, parameters, {
          tenantId: run.meta.tenantId,
          executionId,
          stepId,
          attempt,
          idempotencyKey: stepIdempotencyKey(executionId, stepId),
          attemptKind,
          depth: run.meta.depth,
          deadline: startedAt + timeoutMs,
          signal: controller.signal,
        });
      } catch (err) {
        error = err instanceof ToolError ? err : new ToolError('template', (err as Error).message, false);
      } finally {
        clearTimeout(timer);
      }
      const endedAt = Date.now();
      const durationMs = endedAt - startedAt;
      const capped = error ? { result: undefined, truncated: false } : capResult(result, this.config.EXECUTOR_RESULT_MAX_BYTES);
      const busyMs = (running.busyMs ?? 0) + durationMs;
      const total = endedAt - Date.parse(firstStart);
      // The attempt is over, so the step has no owner any more (a retry waits for any executor).
      const { owner: _owner, ...ran } = running;
      let next: StepState;
      let outcome: 'completed' | 'retried' | 'failed' | 'cancelled';
      if (!error) {
        outcome = 'completed';
        next = { ...ran, status: 'COMPLETED', endedAt: new Date(endedAt).toISOString(), durationMs: total, busyMs, result: capped.result };
        if (capped.truncated) next.resultTruncated = true;
      } else {
        const retryOn = step.retry?.retryOn;
        const maxAttempts = step.retry?.maxAttempts ?? 1;
        const worthRetry = retryOn ? retryOn.includes(error.code) : error.retryable;
        if (worthRetry && attempt < maxAttempts && error.code !== 'aborted') {
          outcome = 'retried';
          next = { ...ran, busyMs, error: error.message };
        } else {
          outcome = error.code === 'aborted' ? 'cancelled' : 'failed';
          next = { ...ran, status: 'FAILED', endedAt: new Date(endedAt).toISOString(), durationMs: total, busyMs, error: error.message };
        }
      }
      // One round trip: the slot freed, the event's sequence number, the step's new state, and,
      // when no step is left open, the run's state for the scheduler.
      // A completed step may be the run's last: the script then ends the run too (if nothing failed).
      const completesAt = outcome === 'completed' ? new Date(endedAt).toISOString() : undefined;
      // A step others wait for needs the run read afterwards: the same script returns it.
      const returnRun = outcome === 'retried' ? 'never' : outcome === 'completed' && plan.leaf.has(stepId) ? 'when-done' : 'always';
      const done = await this.store.endAttempt(executionId, stepId, run.meta.tenantId, slot, next, returnRun, completesAt);
      slotReleased();
      this.events.toolCall({
        tenantId: run.meta.tenantId,
        executionId,
        stepId,
        tool: step.tool,
        parameters,
        result: capped.result,
        success: !error,
        error: error?.message,
        startedAt,
        durationMs,
        seq: done.seq,
      });
      this.metrics.stepSeconds.observe({ tool: step.tool }, durationMs / 1000);
      this.metrics.steps.inc({ tool: step.tool, outcome });
      if (done.moved) {
        run.steps[stepId] = next;
        this.scheduler.publishStep(run, stepId);
      }
      if (outcome === 'retried') throw new RetryableStepError(error!.message);
      if (done.moved && done.runEnded) {
        this.scheduler.ended({ ...run.meta, status: 'COMPLETED', endedAt: completesAt! });
      } else if (!done.moved) {
        // Settled meanwhile (cancel, timeout, abort): whoever settled it moves the run on.
        if (done.current === 'GONE') return error?.message;
        await this.scheduler.advance(executionId);
      } else if (done.open > 0 && outcome === 'completed' && plan.leaf.has(stepId)) {
        // Nothing waits for this step and others are still open: nothing new can be ready.
        this.scheduler.scheduleSnapshot(executionId);
      } else if (done.fields) {
        await this.scheduler.advance(executionId, { known: snapshotOf(done.fields, plan.definition) });
      } else {
        await this.scheduler.advance(executionId);
      }
      return error?.message;
    } finally {
      this.aborts.unregister(executionId, controller);
    }
  }
}
