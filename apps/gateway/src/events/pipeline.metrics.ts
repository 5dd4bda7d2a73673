import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { RECORDER_CONSUMER } from '@toolpath/contracts';
import { APP_CONFIG, MetricsService, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

/**
 * The event pipeline as the gateway sees it, so one scrape of the API shows whether ingestion
 * keeps up: the stream's size and the recorders' consumer lag, read from JetStream on scrape.
 * (Stored, duplicate and rejected counts are the recorder's own metrics, on its /metrics.)
 */
@Injectable()
export class PipelineMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    const streamMessages = this.metrics.gauge('toolpath_events_stream_messages', 'Events held in the events stream');
    const pending = this.metrics.gauge('toolpath_recorder_consumer_pending', 'Events in the stream not yet delivered to a recorder');
    const ackPending = this.metrics.gauge('toolpath_recorder_consumer_ack_pending', 'Events delivered to recorders and not yet acknowledged');
    const nats = this.nats;
    const { TOOLPATH_EVENTS_STREAM: stream } = this.config;
    this.metrics.gauge('toolpath_pipeline_info_up', 'Whether the last read of stream and consumer state worked', [], async function () {
      try {
        const jsm = await nats.jsm();
        const [s, c] = await Promise.all([jsm.streams.info(stream), jsm.consumers.info(stream, RECORDER_CONSUMER)]);
        streamMessages.set(s.state.messages);
        pending.set(c.num_pending);
        ackPending.set(c.num_ack_pending);
        this.set(1);
      } catch {
        this.set(0);
      }
    });
  }
}
