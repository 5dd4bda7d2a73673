import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '@toolpath/platform';

/** What an operator watches on an analyzer: runs, what they read, what they learned, how long. */
@Injectable()
export class AnalyzerMetrics {
  readonly runs: Counter<'mode' | 'status'>;
  readonly runSeconds: Histogram<'mode'>;
  readonly eventsRead: Counter;
  readonly eventsInvalid: Counter;
  readonly eventsAlreadyCounted: Counter;
  readonly eventsExpired: Counter;
  readonly deadLettered: Counter<'reason'>;
  readonly processingFailures: Counter;
  readonly sessionsClosed: Counter;
  readonly stepsDropped: Counter;
  readonly patternsWritten: Counter;
  readonly patterns: Gauge;
  readonly lockBusy: Counter;
  readonly suggestSeconds: Histogram;

  constructor(metrics: MetricsService) {
    this.runs = metrics.counter('toolpath_analyzer_runs_total', 'Analyzer runs by mode and outcome', ['mode', 'status']);
    this.runSeconds = metrics.histogram('toolpath_analyzer_run_duration_seconds', 'Duration of analyzer runs', ['mode'], [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);
    this.eventsRead = metrics.counter('toolpath_analyzer_events_read_total', 'Events read from the stream (incremental) or the store (full rebuild)');
    this.eventsInvalid = metrics.counter('toolpath_analyzer_events_invalid_total', 'Events skipped because they failed validation (the recorder dead-letters them)');
    this.eventsAlreadyCounted = metrics.counter('toolpath_analyzer_events_already_counted_total', "Redelivered events at or below their tenant's watermark, skipped");
    this.eventsExpired = metrics.counter('toolpath_analyzer_events_expired_total', 'Events that aged out of the stream before the analyzer read them (a full rebuild recovers them)');
    this.deadLettered = metrics.counter(
      'toolpath_analyzer_events_dead_lettered_total',
      'Events the analyzer dead-lettered to rejected_events and skipped, by reason (processing_failed: counting or persisting them kept failing)',
      ['reason'],
    );
    this.processingFailures = metrics.counter(
      'toolpath_analyzer_processing_failures_total',
      "Tries at counting a tenant's events that failed while the database answered (the failing events are then isolated)",
    );
    this.sessionsClosed = metrics.counter('toolpath_analyzer_sessions_closed_total', 'Sessions closed and counted');
    this.stepsDropped = metrics.counter('toolpath_analyzer_steps_dropped_total', 'Calls not mined because their session had more than ANALYZER_MAX_STEPS_PER_SESSION');
    this.patternsWritten = metrics.counter('toolpath_analyzer_patterns_written_total', 'Pattern rows written (changed) to the patterns collection');
    this.patterns = metrics.gauge('toolpath_analyzer_patterns', 'Patterns listed, over the tenants this analyzer holds in memory');
    this.lockBusy = metrics.counter('toolpath_analyzer_lock_busy_total', 'Runs not started because another analyzer held the run lock');
    this.suggestSeconds = metrics.histogram('toolpath_analyzer_suggest_duration_seconds', 'Time to answer a suggestion request', [], [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25]);
  }
}
