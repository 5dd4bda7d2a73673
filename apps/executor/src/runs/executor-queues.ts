import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { RUN_QUEUE, STEP_QUEUE } from '@toolpath/contracts';
import type { Backoff } from '@toolpath/workflow';

export interface StepJobData {
  executionId: string;
  stepId: string;
  tenantId: string;
  backoff?: Backoff;
}

export type RunJobName = 'timeout' | 'finish';
export interface RunJobData {
  executionId: string;
}

/** Custom backoff type name; the step worker's strategy reads the step's policy from the job. */
export const STEP_BACKOFF = 'step';

/** Deterministic: a step is never queued twice, however many executors advance the run at once. */
export const stepJobId = (executionId: string, stepId: string): string => `${executionId}__${stepId}`;
const runJobId = (name: RunJobName, executionId: string): string => `${name}__${executionId}`;

/** The executor's BullMQ queues (the only place that adds or removes jobs). */
@Injectable()
export class ExecutorQueues {
  constructor(
    @InjectQueue(STEP_QUEUE) readonly steps: Queue<StepJobData>,
    @InjectQueue(RUN_QUEUE) readonly runs: Queue<RunJobData>,
  ) {}

  async addSteps(jobs: Array<StepJobData & { maxAttempts: number }>): Promise<void> {
    if (jobs.length === 0) return;
    await this.steps.addBulk(
      jobs.map(({ maxAttempts, ...data }) => ({
        name: 'step',
        data,
        opts: {
          jobId: stepJobId(data.executionId, data.stepId),
          attempts: maxAttempts,
          backoff: { type: STEP_BACKOFF },
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 24 * 3600, count: 10_000 },
        },
      })),
    );
  }

  /** Removes a step's job if it is waiting or delayed (an active one is aborted instead). */
  async removeStep(executionId: string, stepId: string): Promise<void> {
    await this.steps.remove(stepJobId(executionId, stepId)).catch(() => 0);
  }

  async addRunJob(name: RunJobName, executionId: string, delayMs = 0): Promise<void> {
    await this.runs.add(
      name,
      { executionId },
      {
        jobId: runJobId(name, executionId),
        delay: delayMs,
        attempts: 10,
        backoff: { type: 'exponential', delay: 200 },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600, count: 10_000 },
      },
    );
  }

  async removeRunJob(name: RunJobName, executionId: string): Promise<void> {
    await this.runs.remove(runJobId(name, executionId)).catch(() => 0);
  }

  async counts(): Promise<Array<{ queue: string; counts: Record<string, number> }>> {
    return Promise.all(
      [this.steps, this.runs].map(async (q) => ({ queue: q.name, counts: await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized') })),
    );
  }

  async ping(): Promise<void> {
    const client = (await this.steps.client) as unknown as { ping(): Promise<string> };
    await client.ping();
  }

  /** Tests: removes every job and key of both queues. */
  async obliterate(): Promise<void> {
    await this.steps.obliterate({ force: true });
    await this.runs.obliterate({ force: true });
  }
}
