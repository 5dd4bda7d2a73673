import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { MetricsService } from '@toolpath/platform';

/** What an operator watches on an executor. */
@Injectable()
export class ExecutorMetrics {
  readonly steps: Counter<'tool' | 'outcome'>;
  readonly stepSeconds: Histogram<'tool'>;
  readonly runs: Counter<'outcome'>;

  constructor(private readonly metrics: MetricsService) {
    this.steps = metrics.counter('toolpath_executor_step_attempts_total', 'Step attempts this executor processed, by tool and outcome', ['tool', 'outcome']);
    this.stepSeconds = metrics.histogram('toolpath_executor_step_duration_seconds', 'Duration of one step attempt', ['tool'], [
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]);
    this.runs = metrics.counter('toolpath_executor_runs_total', 'Runs this executor finished, by outcome', ['outcome']);
  }

  /** Jobs per queue and state, read from Redis when scraped. */
  registerQueueDepth(read: () => Promise<Array<{ queue: string; counts: Record<string, number> }>>): void {
    this.metrics.gauge('toolpath_executor_queue_jobs', 'Jobs in the executor queues by state (read on scrape)', ['queue', 'state'], async function () {
      this.reset();
      for (const { queue, counts } of await read().catch(() => [])) {
        for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      }
    });
  }
}
