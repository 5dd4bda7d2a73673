import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import { AnalyzerRunService } from './analyzer-run.service';

const JOB = 'analyzer-run';

/**
 * Scheduled runs (ANALYZER_SCHEDULE, every minute by default; `off` for on-demand only). Every
 * analyzer schedules them; the run lock lets one of them run and the others skip.
 */
@Injectable()
export class AnalyzerScheduler implements OnApplicationBootstrap {
  private readonly log = new Logger('AnalyzerScheduler');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    private readonly registry: SchedulerRegistry,
    private readonly runs: AnalyzerRunService,
    private readonly nats: NatsClient,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The stream must exist before the first run makes its consumer; any service may create it.
    await this.nats.ensureEventsStream();
    if (this.config.ANALYZER_SCHEDULE === 'off') {
      this.log.log('scheduled runs are off (ANALYZER_SCHEDULE=off): runs happen on request only');
      return;
    }
    const job = CronJob.from({
      cronTime: this.config.ANALYZER_SCHEDULE,
      onTick: () => {
        this.runs.scheduled().catch((err) => this.log.error(`scheduled run failed: ${(err as Error).message}`));
      },
      start: false,
    });
    this.registry.addCronJob(JOB, job as never);
    job.start();
    this.log.log(`scheduled runs: ${this.config.ANALYZER_SCHEDULE}`);
  }
}
