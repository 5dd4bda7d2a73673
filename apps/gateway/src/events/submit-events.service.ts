import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MAX_EVENTS_PER_BATCH, type FieldIssue } from '@toolpath/contracts';
import { APP_CONFIG, ApiError, MetricsService, NatsClient } from '@toolpath/platform';
import { buildEvent, encodeEvent, publishEncoded, EventTooLargeError, InvalidEventError, type EncodedEvent } from '@toolpath/sdk';
import type { Counter } from 'prom-client';
import type { GatewayConfig } from '../gateway.config';

export interface ItemError {
  index: number;
  status: number;
  reason: 'invalid_event' | 'too_large' | 'publish_failed';
  field: string;
  message: string;
  issues?: FieldIssue[];
}

export interface SubmitResult {
  accepted: number;
  eventIds: string[];
  duplicates: number;
  errors: ItemError[];
}

/**
 * SubmitEvents: REST events take the same road as the SDKs' (encode with the contract, publish to
 * JetStream with the de-duplication header), so the recorder cannot tell them apart. A 202 means
 * the stream has acknowledged the event: it is durable and will be stored.
 */
@Injectable()
export class SubmitEventsService implements OnModuleInit {
  private readonly accepted: Counter<'outcome'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly nats: NatsClient,
    metrics: MetricsService,
  ) {
    this.accepted = metrics.counter('toolpath_gateway_events_total', 'Events submitted over REST, by outcome', ['outcome']);
  }

  /** The gateway publishes into the stream, so it makes sure the stream exists whatever starts first. */
  async onModuleInit(): Promise<void> {
    await this.nats.ensureEventsStream();
  }

  async submit(tenantId: string, body: unknown): Promise<SubmitResult> {
    const single = !Array.isArray(body);
    const items = single ? [body] : (body as unknown[]);
    if (items.length === 0) throw new ApiError(400, 'the batch is empty', [{ field: '(root)', message: 'send one event or 1..1000 events' }]);
    if (items.length > MAX_EVENTS_PER_BATCH) {
      throw new ApiError(413, `a batch holds at most ${MAX_EVENTS_PER_BATCH} events; this one has ${items.length}`, [
        { field: '(root)', message: `at most ${MAX_EVENTS_PER_BATCH} events per request` },
      ]);
    }

    const errors: ItemError[] = [];
    const ready: Array<{ index: number; encoded: EncodedEvent }> = [];
    items.forEach((item, index) => {
      try {
        ready.push({ index, encoded: encodeEvent(buildEvent(item as never, { tenantId }), this.config.TOOLPATH_SUBJECT_PREFIX) });
      } catch (err) {
        errors.push(itemError(index, err));
      }
    });

    const js = this.nats.js;
    const acks = await Promise.allSettled(ready.map((r) => publishEncoded(js, r.encoded, { timeoutMs: this.config.GATEWAY_PUBLISH_TIMEOUT_MS })));
    const eventIds: string[] = [];
    let duplicates = 0;
    acks.forEach((ack, i) => {
      const { index, encoded } = ready[i];
      if (ack.status === 'fulfilled') {
        eventIds.push(encoded.eventId);
        if (ack.value.duplicate) duplicates++;
      } else {
        errors.push({ index, status: 503, reason: 'publish_failed', field: '(event)', message: `the event stream did not acknowledge: ${String((ack.reason as Error)?.message ?? ack.reason)}` });
      }
    });
    errors.sort((a, b) => a.index - b.index);
    this.accepted.inc({ outcome: 'accepted' }, eventIds.length);
    for (const e of errors) this.accepted.inc({ outcome: e.reason });

    if (eventIds.length === 0) {
      const status = errors.every((e) => e.status === errors[0].status) ? errors[0].status : 400;
      const first = errors[0];
      const message = single ? `${first.field}: ${first.message}` : `none of the ${items.length} events was accepted; first: [${first.index}] ${first.field}: ${first.message}`;
      throw new ApiError(status, message, single ? first.issues ?? [{ field: first.field, message: first.message }] : errors);
    }
    return { accepted: eventIds.length, eventIds, duplicates, errors };
  }
}

function itemError(index: number, err: unknown): ItemError {
  if (err instanceof EventTooLargeError) {
    return { index, status: 413, reason: 'too_large', field: '(event)', message: `encoded event is ${err.size} bytes, over the ${err.limit}-byte limit` };
  }
  if (err instanceof InvalidEventError) {
    const first = err.issues[0] ?? { field: '(root)', message: err.message };
    return { index, status: 400, reason: 'invalid_event', field: first.field, message: first.message, issues: err.issues };
  }
  throw err;
}
