import { Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JsMsg } from 'nats';
import { ANALYZER_CONSUMER, eventsSubjectFilter } from '@toolpath/contracts';
import { isNotFound, type NatsClient } from '@toolpath/platform';

const NS_PER_MS = 1_000_000;
/** How long one pull waits for messages the consumer said were pending (nats.js wants ≥ 1 s). */
const FETCH_EXPIRES_MS = 1000;

export interface StreamPosition {
  /** Messages after the consumer's position when the run starts: what this run reads at most. */
  pending: number;
  /** Stream sequence of the stream's first message (older ones aged out). */
  firstSeq: number;
  lastSeq: number;
  /** When the stream was created: watermarks of another incarnation of the stream mean nothing. */
  created: string;
  /** True when the consumer was re-positioned to the stored watermark (a run died holding messages). */
  repositioned: boolean;
  /**
   * The server's time (epoch ms, the clock that stamps messages) before `pending` was counted:
   * every message not among those `pending` is stamped at or after it. Undefined on servers that
   * do not say (before NATS 2.10).
   */
  serverTime?: number;
}

/**
 * The analyzer's durable consumer on the events stream. Acknowledgement is cumulative
 * (AckPolicy.All): after a batch is persisted, acknowledging its last message acknowledges all.
 *
 * Messages are only ever taken in stream order by one run at a time (the run lock). A run that
 * died after taking messages leaves them delivered and unacknowledged; JetStream would redeliver
 * them only after the ack wait, behind newer ones. So a run that finds such messages first puts the
 * consumer back at the stored watermark, which keeps the order: the per-tenant watermarks then skip
 * whatever the dead run had already persisted.
 */
export class EventStreamReader {
  private readonly log = new Logger('EventStreamReader');

  constructor(
    private readonly nats: NatsClient,
    private readonly stream: string,
    private readonly subjectPrefix: string,
    private readonly ackWaitMs: number,
    private readonly maxAckPending: number,
  ) {}

  async prepare(streamWatermark: number): Promise<StreamPosition> {
    const jsm = await this.nats.jsm();
    const streamInfo = await jsm.streams.info(this.stream);
    let repositioned = false;
    let info = await jsm.consumers.info(this.stream, ANALYZER_CONSUMER).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (info && info.delivered.stream_seq > info.ack_floor.stream_seq) {
      this.log.warn(
        `messages ${info.ack_floor.stream_seq + 1}..${info.delivered.stream_seq} were taken by a run that did not finish; re-reading from ${streamWatermark + 1}`,
      );
      await jsm.consumers.delete(this.stream, ANALYZER_CONSUMER);
      info = undefined;
      repositioned = true;
    }
    if (!info) {
      await this.create(streamWatermark);
      info = await jsm.consumers.info(this.stream, ANALYZER_CONSUMER);
    }
    const serverTime = streamInfo.ts ? Date.parse(streamInfo.ts) : NaN;
    return {
      pending: info.num_pending,
      firstSeq: streamInfo.state.first_seq,
      lastSeq: streamInfo.state.last_seq,
      created: streamInfo.created,
      repositioned,
      ...(Number.isFinite(serverTime) ? { serverTime } : {}),
    };
  }

  manager() {
    return this.nats.jsm();
  }

  /** Forgets the consumer's position: the next prepare() starts after `streamWatermark`. */
  async reset(): Promise<void> {
    const jsm = await this.nats.jsm();
    await jsm.consumers.delete(this.stream, ANALYZER_CONSUMER).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** Up to `max` messages in stream order; fewer when the stream has no more. */
  async take(max: number, batch: number): Promise<JsMsg[]> {
    const consumer = await this.nats.js.consumers.get(this.stream, ANALYZER_CONSUMER);
    const out: JsMsg[] = [];
    while (out.length < max) {
      const want = Math.min(batch, max - out.length);
      const msgs = await consumer.fetch({ max_messages: want, expires: FETCH_EXPIRES_MS });
      let got = 0;
      for await (const m of msgs) {
        out.push(m);
        got++;
      }
      if (got < want) break;
    }
    return out;
  }

  /** Acknowledges `last` and everything delivered before it, and waits for the server to confirm. */
  async ackThrough(last: JsMsg): Promise<void> {
    await last.ackAck({ timeout: 10_000 });
  }

  private async create(streamWatermark: number): Promise<void> {
    const jsm = await this.nats.jsm();
    const config: Partial<ConsumerConfig> = {
      durable_name: ANALYZER_CONSUMER,
      ack_policy: AckPolicy.All,
      filter_subject: eventsSubjectFilter(this.subjectPrefix),
      ack_wait: this.ackWaitMs * NS_PER_MS,
      max_ack_pending: this.maxAckPending,
      max_deliver: -1,
      ...(streamWatermark > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: streamWatermark + 1 } : { deliver_policy: DeliverPolicy.All }),
    };
    await jsm.consumers.add(this.stream, config);
  }
}
