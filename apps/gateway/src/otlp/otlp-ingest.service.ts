import { Inject, Injectable } from '@nestjs/common';
import { MAX_EVENTS_PER_BATCH } from '@toolpath/contracts';
import { APP_CONFIG, MetricsService, NatsClient } from '@toolpath/platform';
import { mapToolSpans, type DecodedTraceRequest } from '@toolpath/otlp-mapping';
import { buildEvent, encodeEvent, publishEncoded, EventTooLargeError, InvalidEventError, type EncodedEvent } from '@toolpath/sdk';
import type { PubAck } from 'nats';
import type { Counter } from 'prom-client';
import type { GatewayConfig } from '../gateway.config';
import { OtlpHttpError } from './otlp-status';

export interface OtlpIngestResult {
  /** Spans in the export. */
  spans: number;
  /** Tool-call events the stream acknowledged (a re-sent one included). */
  accepted: number;
  /** Of `accepted`, those the stream already had (the same span sent before). */
  duplicates: number;
  /** Spans that are not tool calls. */
  ignored: number;
  /** Tool spans (or unreadable spans) refused, with why: the partialSuccess. */
  rejected: Array<{ span: string; reason: string }>;
}

/** Publishes awaited together (the REST batch's largest size). */
const PUBLISH_WINDOW = MAX_EVENTS_PER_BATCH;
/** How many refusal reasons the partialSuccess message spells out. */
const REASONS_LISTED = 5;

/**
 * OTLP trace exports in, tool-call events out: the tool spans are mapped (libs/otlp-mapping),
 * built and encoded with the event contract, and published to JetStream like REST events
 * (SubmitEventsService's road), with the span's id as the event id, so a re-sent export is
 * de-duplicated by the stream and by the recorder's key. Answering 2xx means every accepted event
 * was acknowledged by the stream; when some publish fails, the whole export is refused with 503,
 * which OTLP clients retry, the events already published then being duplicates.
 */
@Injectable()
export class OtlpIngestService {
  private readonly spanCounter: Counter<'outcome'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly nats: NatsClient,
    metrics: MetricsService,
  ) {
    this.spanCounter = metrics.counter('toolpath_gateway_otlp_spans_total', 'Spans received on /v1/traces, by outcome', ['outcome']);
  }

  async ingest(tenantId: string, decoded: DecodedTraceRequest): Promise<OtlpIngestResult> {
    const mapped = mapToolSpans(decoded.spans);
    const rejected = decoded.unreadable.map((u) => ({ span: u.path, reason: u.reason }));
    for (const r of mapped.rejected) rejected.push({ span: spanLabel(r.spanId, r.name), reason: r.reason });

    const ready: EncodedEvent[] = [];
    for (const { span, event } of mapped.events) {
      try {
        ready.push(encodeEvent(buildEvent(event, { tenantId }), this.config.TOOLPATH_SUBJECT_PREFIX));
      } catch (err) {
        if (err instanceof InvalidEventError) {
          const first = err.issues[0];
          rejected.push({ span: spanLabel(span.spanId, span.name), reason: first ? `${first.field}: ${first.message}` : err.message });
        } else if (err instanceof EventTooLargeError) {
          rejected.push({ span: spanLabel(span.spanId, span.name), reason: `the event would be ${err.size} bytes, over the ${err.limit}-byte limit` });
        } else {
          throw err;
        }
      }
    }

    const js = this.nats.js;
    const acks: Array<PromiseSettledResult<PubAck>> = [];
    // A 16 MiB export may hold tens of thousands of tool spans: a bounded number of publishes in flight.
    for (let i = 0; i < ready.length; i += PUBLISH_WINDOW) {
      const slice = ready.slice(i, i + PUBLISH_WINDOW);
      acks.push(...(await Promise.allSettled(slice.map((e) => publishEncoded(js, e, { timeoutMs: this.config.GATEWAY_PUBLISH_TIMEOUT_MS })))));
    }
    const failed = acks.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    if (failed.length > 0) {
      this.spanCounter.inc({ outcome: 'publish_failed' }, failed.length);
      const reason = String((failed[0].reason as Error)?.message ?? failed[0].reason);
      throw new OtlpHttpError(503, `the event stream did not acknowledge ${failed.length} of ${ready.length} tool-call events (${reason}); send the export again: events already stored are not stored twice`, 1);
    }
    const duplicates = acks.filter((a) => a.status === 'fulfilled' && a.value.duplicate).length;
    this.spanCounter.inc({ outcome: 'accepted' }, ready.length - duplicates);
    this.spanCounter.inc({ outcome: 'duplicate' }, duplicates);
    this.spanCounter.inc({ outcome: 'ignored' }, mapped.ignored);
    this.spanCounter.inc({ outcome: 'rejected' }, rejected.length);
    return { spans: decoded.spans.length + decoded.unreadable.length, accepted: ready.length, duplicates, ignored: mapped.ignored, rejected };
  }
}

/** The partialSuccess message: how many were refused, and the first reasons. */
export function rejectionMessage(result: OtlpIngestResult): string {
  const listed = result.rejected.slice(0, REASONS_LISTED).map((r) => `${r.span}: ${r.reason}`);
  const more = result.rejected.length > REASONS_LISTED ? `; and ${result.rejected.length - REASONS_LISTED} more` : '';
  return `${result.rejected.length} of ${result.spans} spans rejected: ${listed.join('; ')}${more}`;
}

function spanLabel(spanId: string, name: string): string {
  return `span ${spanId || '(no id)'} "${name.slice(0, 100)}"`;
}
