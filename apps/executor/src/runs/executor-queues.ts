import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Job, type Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { STEP_QUEUE } from '@toolpath/contracts';
import type { Backoff } from '@toolpath/workflow';

export interface StepJobData {
  executionId: string;
  stepId: string;
  tenantId: string;
  backoff?: Backoff;
}

/** Custom backoff type name; the step worker's strategy reads the step's policy from the job. */
export const STEP_BACKOFF = 'step';

/** A step attempt's job: deterministic id, the step's retry policy. */
function stepJob({ maxAttempts, ...data }: StepJobData & { maxAttempts: number }) {
  return {
    name: 'step',
    data,
    opts: {
      jobId: stepJobId(data.executionId, data.stepId),
      attempts: maxAttempts,
      backoff: { type: STEP_BACKOFF },
      // A completed step's job is deleted at once (cheapest for BullMQ): the step's state in
      // Redis, not the job, is what stops a step from running twice.
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600, count: 10_000 },
    },
  };
}

/** Deterministic: a step is never queued twice, however many executors advance the run at once. */
export const stepJobId = (executionId: string, stepId: string): string => `${executionId}__${stepId}`;

/**
 * The executor's BullMQ queue of step attempts (the only place that adds or removes jobs). Run
 * deadlines and the work after a run ends are not jobs: they are the RunStore's `deadlines` and
 * `outbox` sets, read by the RunFinalizer, which costs a few commands per run instead of a job's
 * life cycle.
 */
@Injectable()
export class ExecutorQueues {
  constructor(@InjectQueue(STEP_QUEUE) readonly steps: Queue<StepJobData>) {}

  async addSteps(jobs: Array<StepJobData & { maxAttempts: number }>): Promise<void> {
    if (jobs.length === 0) return;
    await this.steps.addBulk(jobs.map(stepJob));
  }

  /**
   * Adds step jobs in one transaction (MULTI/EXEC) after the commands `before` puts into it on
   * the queue's own connection: one round trip, and all or nothing. Returns the replies of the
   * `count` commands `before` queued.
   */
  async addStepsAfter(before: (tx: ChainableCommander) => void, count: number, jobs: Array<StepJobData & { maxAttempts: number }>): Promise<unknown[]> {
    const client = (await this.steps.client) as unknown as Redis;
    const tx = client.multi();
    before(tx);
    for (const j of jobs.map(stepJob)) {
      // BullMQ's own bulk add does the same per job, on a pipeline instead of a transaction.
      void new Job<StepJobData>(this.steps, j.name, j.data, j.opts, j.opts.jobId).addJob(tx as never, { parentDependenciesKey: '' }).catch(() => undefined);
    }
    const results = await tx.exec();
    if (!results) throw new Error('the transaction was discarded');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0]!;
    return results.slice(0, count).map(([, reply]) => reply);
  }

  /** Removes a step's job if it is waiting or delayed (an active one is aborted instead). */
  async removeStep(executionId: string, stepId: string): Promise<void> {
    await this.steps.remove(stepJobId(executionId, stepId)).catch(() => 0);
  }

  async counts(): Promise<Array<{ queue: string; counts: Record<string, number> }>> {
    return Promise.all(
      [this.steps].map(async (q) => ({ queue: q.name, counts: await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized') })),
    );
  }

  async ping(): Promise<void> {
    const client = (await this.steps.client) as unknown as { ping(): Promise<string> };
    await client.ping();
  }
}
