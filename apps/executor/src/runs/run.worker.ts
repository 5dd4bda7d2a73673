import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { RUN_QUEUE } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import { compensationOrder, renderParameters } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import { RunEvents } from '../events/run-events.service';
import { ToolInvoker } from '../tools/tool-invoker.service';
import { ToolError } from '../tools/tool-error';
import { ExecutionRepository } from './execution.repository';
import { ExecutorQueues, type RunJobData, type RunJobName } from './executor-queues';
import { RunScheduler, templateContext } from './run-scheduler.service';
import type { CompensationRecord } from './run-state';
import { RunStore } from './run-store';

/**
 * Run-level jobs: `timeout` (a delayed job at the run's deadline) and `finish` (compensation of a
 * failed run, the session_end event, the final Mongo write). Being jobs, they survive the death
 * of the executor that ended the run.
 */
@Processor(RUN_QUEUE, { autorun: false })
export class RunWorker extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger('RunWorker');

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly queues: ExecutorQueues,
    private readonly scheduler: RunScheduler,
    private readonly tools: ToolInvoker,
    private readonly events: RunEvents,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    Object.assign(this.worker.opts, {
      lockDuration: this.config.EXECUTOR_LOCK_DURATION_MS,
      stalledInterval: this.config.EXECUTOR_STALLED_INTERVAL_MS,
      maxStalledCount: 10,
    });
    this.worker.concurrency = 8;
    this.worker.on('error', (err) => this.log.warn(`runs worker: ${err.message}`));
    void this.worker.run().catch((err: Error) => this.log.error(`runs worker stopped: ${err.message}`));
  }

  async process(job: Job<RunJobData>): Promise<void> {
    const name = job.name as RunJobName;
    if (name === 'timeout') return this.scheduler.timeout(job.data.executionId);
    if (name === 'finish') return this.finalize(job.data.executionId);
  }

  private async finalize(executionId: string): Promise<void> {
    let run = await this.store.load(executionId);
    if (!run) return;
    if (run.meta.status === 'FAILED') {
      await this.compensate(executionId);
      run = (await this.store.load(executionId)) ?? run;
    }
    const { meta } = run;
    const started = Date.parse(meta.startedAt ?? meta.createdAt);
    const ended = Date.parse(meta.endedAt ?? new Date().toISOString());
    const results = Object.fromEntries(run.definition.steps.filter((s) => run!.steps[s.id].status === 'COMPLETED').map((s) => [s.id, run!.steps[s.id].result]));
    this.events.sessionEnd({
      tenantId: meta.tenantId,
      executionId,
      intent: meta.name,
      success: meta.status === 'COMPLETED',
      result: results,
      error: meta.error,
      startedAt: started,
      durationMs: ended - started,
    });
    await this.repo.final(this.scheduler.toDocument(run));
    await this.store.expire(executionId, this.config.EXECUTOR_FINISHED_TTL_S);
    await this.queues.removeRunJob('timeout', executionId);
  }

  /** Undoes completed steps that declare `compensate`, dependents first; each one at most once. */
  private async compensate(executionId: string): Promise<void> {
    const run = await this.store.load(executionId);
    if (!run) return;
    const completed = run.definition.steps.filter((s) => run.steps[s.id].status === 'COMPLETED').map((s) => s.id);
    const done = new Set((run.meta.compensations ?? []).map((c) => c.stepId));
    const records: CompensationRecord[] = [...(run.meta.compensations ?? [])];
    for (const stepId of compensationOrder(run.definition, completed)) {
      if (done.has(stepId)) continue;
      const comp = run.definition.steps.find((s) => s.id === stepId)!.compensate!;
      const startedAt = Date.now();
      let params: Record<string, unknown> = {};
      const record: CompensationRecord = { stepId, tool: comp.tool, ok: true };
      let result: unknown;
      try {
        params = renderParameters(comp.parameters, templateContext(run));
        const signal = AbortSignal.timeout(this.config.EXECUTOR_STEP_TIMEOUT_MS);
        result = await this.tools.call(comp.tool, params, {
          tenantId: run.meta.tenantId,
          executionId,
          stepId,
          attempt: 1,
          depth: run.meta.depth,
          deadline: Date.now() + this.config.EXECUTOR_STEP_TIMEOUT_MS,
          signal,
        });
      } catch (err) {
        record.ok = false;
        record.error = err instanceof ToolError || err instanceof Error ? err.message : String(err);
        this.log.warn(`compensation of ${executionId}/${stepId} failed: ${record.error}`);
      }
      const seq = await this.store.nextSeq(executionId);
      this.events.toolCall({
        tenantId: run.meta.tenantId,
        executionId,
        stepId: `${stepId}.compensate`,
        tool: comp.tool,
        parameters: params,
        result,
        success: record.ok,
        error: record.error,
        startedAt,
        durationMs: Date.now() - startedAt,
        seq,
      });
      records.push(record);
      const meta = (await this.store.loadMeta(executionId)) ?? run.meta;
      await this.store.setMeta(executionId, [meta.status], { ...meta, compensations: records });
    }
  }
}
