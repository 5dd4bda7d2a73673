import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { MetricsService } from '@toolpath/platform';

/** What an operator watches on a recorder: throughput, duplicates, dead letters, lag. */
@Injectable()
export class RecorderMetrics {
  readonly stored: Counter;
  readonly duplicates: Counter;
  readonly rejected: Counter<'reason'>;
  readonly writeRetries: Counter;
  readonly processingFailures: Counter;
  readonly batchSize: Histogram;
  readonly writeSeconds: Histogram;
  readonly storeLatency: Histogram;

  constructor(private readonly metrics: MetricsService) {
    this.stored = metrics.counter('toolpath_recorder_events_stored_total', 'Events written to tool_events');
    this.duplicates = metrics.counter('toolpath_recorder_events_duplicate_total', 'Events already stored (redelivery or producer retry), not written again');
    this.rejected = metrics.counter('toolpath_recorder_events_rejected_total', 'Events dead-lettered to rejected_events, by reason (processing_failed: poison messages after their bounded tries)', ['reason']);
    this.writeRetries = metrics.counter('toolpath_recorder_write_retries_total', 'Batch writes retried after the database failed');
    this.processingFailures = metrics.counter(
      'toolpath_recorder_processing_failures_total',
      'Tries that failed while the database answered (per-document failures); a message failing RECORDER_PROCESSING_ATTEMPTS times alone is dead-lettered',
    );
    this.batchSize = metrics.histogram('toolpath_recorder_batch_size', 'Messages per written batch', [], [1, 10, 50, 100, 250, 500, 1000, 2500, 5000]);
    this.writeSeconds = metrics.histogram('toolpath_recorder_write_seconds', 'Time to write one batch', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
    this.storeLatency = metrics.histogram(
      'toolpath_recorder_store_latency_seconds',
      'From the stream receiving an event to its row being durable',
      [],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
  }

  /** Consumer lag, read from JetStream when scraped. */
  registerPending(read: () => Promise<{ pending: number; ackPending: number; redelivered: number }>): void {
    const pending = this.metrics.gauge('toolpath_recorder_consumer_pending', 'Events in the stream not yet delivered to a recorder');
    const ackPending = this.metrics.gauge('toolpath_recorder_consumer_ack_pending', 'Events delivered to recorders and not yet acknowledged');
    const redelivered = this.metrics.gauge('toolpath_recorder_consumer_redelivered', 'Events currently being redelivered');
    this.metrics.gauge('toolpath_recorder_consumer_info_up', 'Whether the last consumer-info read worked', [], async function () {
      try {
        const info = await read();
        pending.set(info.pending);
        ackPending.set(info.ackPending);
        redelivered.set(info.redelivered);
        this.set(1);
      } catch {
        this.set(0);
      }
    });
  }
}
