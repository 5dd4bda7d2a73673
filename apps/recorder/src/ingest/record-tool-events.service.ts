import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import { RECORDER_CONSUMER, RejectReason, eventsSubjectFilter } from '@toolpath/contracts';
import { ToolEventWriter, type RejectedEvent, type StoredToolEvent } from '@toolpath/event-store';
import { APP_CONFIG, HealthRegistry, NatsClient, isNotFound } from '@toolpath/platform';
import type { RecorderConfig } from '../recorder.config';
import { decodeEventMessage, rejection, type DecodeContext } from './decode-event-message';
import { RecorderMetrics } from './recorder.metrics';

const MS = 1_000_000;

/**
 * RecordToolEvents: the durable pull consumer that stores every event once.
 *
 * Messages are collected into batches bounded by size and time, written with one unordered
 * insertMany, and acknowledged only after the write returned, so a crash at any point leads to
 * a redelivery, which the `_id` natural key turns into a counted duplicate instead of a second
 * row. The consumer's max_ack_pending bounds what a recorder holds in memory.
 */
@Injectable()
export class RecordToolEventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('RecordToolEvents');
  private writer?: ToolEventWriter;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;
  private stopDeadline = Infinity;
  private batch: JsMsg[] = [];
  private batchTimer?: NodeJS.Timeout;
  private readonly writes = new Set<Promise<void>>();
  private lastError?: string;
  private consuming = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: RecorderConfig,
    @InjectConnection() private readonly connection: Connection,
    private readonly nats: NatsClient,
    private readonly metrics: RecorderMetrics,
    health: HealthRegistry,
  ) {
    health.register('consumer', async () => {
      if (!this.consuming) throw new Error(`not consuming${this.lastError ? `: ${this.lastError}` : ''}`);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.writer = new ToolEventWriter(this.connection.db!);
    await this.nats.ensureEventsStream();
    await this.ensureConsumer();
    this.metrics.registerPending(() => this.consumerLag());
    void this.ensureIndexesInBackground();
    this.loop = this.consumeForever();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.stopDeadline = Date.now() + this.config.SHUTDOWN_TIMEOUT_MS;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    this.dispatch();
    await Promise.allSettled([...this.writes]);
  }

  private async ensureConsumer(): Promise<void> {
    const jsm = await this.nats.jsm();
    const c = this.config;
    const wanted = {
      durable_name: RECORDER_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: eventsSubjectFilter(c.TOOLPATH_SUBJECT_PREFIX),
      ack_wait: c.RECORDER_ACK_WAIT_MS * MS,
      max_ack_pending: c.RECORDER_MAX_ACK_PENDING,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(c.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER);
      await jsm.consumers.update(c.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER, {
        ack_wait: wanted.ack_wait,
        max_ack_pending: wanted.max_ack_pending,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(c.TOOLPATH_EVENTS_STREAM, wanted).catch(async (addErr) => {
        // Several recorders start at once: one creates it, the others find it.
        await jsm.consumers.info(c.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER).catch(() => {
          throw addErr;
        });
      });
    }
  }

  private async ensureIndexesInBackground(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.writer!.ensureIndexes();
        return;
      } catch (err) {
        this.log.warn(`creating indexes failed (attempt ${attempt}), retrying: ${(err as Error).message}`);
        await sleep(Math.min(1000 * attempt, 10_000));
      }
    }
  }

  private async consumerLag() {
    const jsm = await this.nats.jsm();
    const info = await jsm.consumers.info(this.config.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  private async consumeForever(): Promise<void> {
    const c = this.config;
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(c.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER);
        this.messages = await consumer.consume({ max_messages: c.RECORDER_BATCH_SIZE * 2, expires: 5000 });
        this.consuming = true;
        this.lastError = undefined;
        for await (const msg of this.messages) {
          this.batch.push(msg);
          if (this.batch.length >= c.RECORDER_BATCH_SIZE) {
            this.dispatch();
            // Backpressure: stop pulling while the database is behind.
            while (this.writes.size >= c.RECORDER_WRITE_CONCURRENCY) await Promise.race(this.writes);
          } else if (!this.batchTimer) {
            this.batchTimer = setTimeout(() => this.dispatch(), c.RECORDER_BATCH_WINDOW_MS);
          }
        }
      } catch (err) {
        this.lastError = (err as Error).message;
        if (!this.stopping) this.log.error(`consumer stopped, restarting: ${this.lastError}`);
      } finally {
        this.consuming = false;
      }
      if (!this.stopping) {
        await sleep(1000);
        await this.ensureConsumer().catch((err) => this.log.warn(`consumer check failed: ${(err as Error).message}`));
      }
    }
  }

  /** Hands the collected batch to a writer; the next messages start a new batch. */
  private dispatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.batch.length === 0) return;
    const msgs = this.batch;
    this.batch = [];
    const write: Promise<void> = this.writeBatch(msgs)
      .catch((err) => this.log.error(`batch write abandoned: ${(err as Error).message}`))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private async writeBatch(msgs: JsMsg[]): Promise<void> {
    const c = this.config;
    const ctx: DecodeContext = {
      subjectPrefix: c.TOOLPATH_SUBJECT_PREFIX,
      stream: c.TOOLPATH_EVENTS_STREAM,
      resultMaxBytes: c.RECORDER_RESULT_MAX_BYTES,
      receivedAt: new Date(),
    };
    const rows: StoredToolEvent[] = [];
    const rowMsgs: JsMsg[] = [];
    const rejects: RejectedEvent[] = [];
    for (const m of msgs) {
      const d = decodeEventMessage({ data: m.data, subject: m.subject, streamSeq: m.seq }, ctx);
      if (d.ok) {
        rows.push(d.row);
        rowMsgs.push(m);
      } else rejects.push(d.rejected);
    }

    const started = performance.now();
    let eventsDone = false;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!eventsDone) {
          const outcome = await this.writer!.insertEvents(rows);
          for (const r of outcome.refused) {
            const m = rowMsgs[r.index];
            rejects.push(
              rejection({ data: m.data, subject: m.subject, streamSeq: m.seq }, ctx, rows[r.index].tenantId, RejectReason.StorageRejected, [
                { field: '(document)', message: `the database refused the event: ${r.message}` },
              ], rows[r.index].eventId),
            );
          }
          eventsDone = true;
          this.metrics.stored.inc(outcome.inserted);
          this.metrics.duplicates.inc(outcome.duplicates);
        }
        await this.writer!.insertRejected(rejects);
        break;
      } catch (err) {
        if (this.stopping && Date.now() > this.stopDeadline) {
          // Give the batch back: another recorder (or this one, restarted) stores it.
          for (const m of msgs) m.nak();
          throw err;
        }
        this.metrics.writeRetries.inc();
        if (attempt % 10 === 0) this.log.warn(`write failed (attempt ${attempt + 1}), retrying: ${(err as Error).message}`);
        for (const m of msgs) m.working();
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 6), 3000));
      }
    }

    for (const r of rejects) this.metrics.rejected.inc({ reason: r.reason });
    for (const m of msgs) m.ack();
    const now = Date.now();
    this.metrics.batchSize.observe(msgs.length);
    this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
    for (const m of msgs) this.metrics.storeLatency.observe((now - m.info.timestampNanos / MS) / 1000);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
