import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import { RECORDER_CONSUMER, eventsSubjectFilter } from '@toolpath/contracts';
import { ToolEventWriter } from '@toolpath/event-store';
import { APP_CONFIG, HealthRegistry, NatsClient, isNotFound } from '@toolpath/platform';
import type { RecorderConfig } from '../recorder.config';
import { EventBatchWriter } from './event-batch.writer';
import { RecorderMetrics } from './recorder.metrics';

const NS_PER_MS = 1_000_000;
/** How long one pull request stays open on an idle stream (nats.js requires ≥ 1 s). */
const FETCH_EXPIRES_MS = 5000;

/** Messages taken from the stream and not yet acknowledged, with when their deadline was last pushed back. */
interface HeldBatch {
  msgs: JsMsg[];
  touchedAt: number;
}

/**
 * RecordToolEvents: the durable pull consumer that stores every event once.
 *
 * Messages are collected into batches bounded by size and time, written with one unordered
 * insertMany, and acknowledged only after the write returned, so a crash at any point leads to
 * a redelivery, which the `_id` natural key turns into a counted duplicate instead of a second
 * row.
 *
 * Pulling is explicit (one fetch of at most one batch at a time, and only while a write slot is
 * free) rather than nats.js `consume()`, which refills on arrival: while the database was slow
 * or away it kept pulling up to max_ack_pending messages into a buffer nobody read, their ack
 * deadlines ran out, and the redelivered copies piled up on top. Here everything a recorder
 * holds is in a batch, and a timer pushes the deadline of every held batch back (`working()`),
 * however long a write and its retries take. Each batch is written and acknowledged by
 * `EventBatchWriter`.
 */
@Injectable()
export class RecordToolEventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('RecordToolEvents');
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;
  private batch: HeldBatch = { msgs: [], touchedAt: 0 };
  /** When the oldest message of `batch` arrived (the window counts from there). */
  private batchStartedAt = 0;
  private batchTimer?: NodeJS.Timeout;
  private keepAliveTimer?: NodeJS.Timeout;
  private readonly writes = new Set<Promise<void>>();
  private readonly held = new Set<HeldBatch>();
  private lastError?: string;
  private consuming = false;
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));

  constructor(
    @Inject(APP_CONFIG) private readonly config: RecorderConfig,
    private readonly nats: NatsClient,
    private readonly metrics: RecorderMetrics,
    private readonly writer: ToolEventWriter,
    private readonly batches: EventBatchWriter,
    health: HealthRegistry,
  ) {
    health.register('consumer', async () => {
      if (!this.consuming) throw new Error(`not consuming${this.lastError ? `: ${this.lastError}` : ''}`);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.nats.ensureEventsStream();
    await this.ensureConsumer();
    this.metrics.registerPending(() => this.consumerLag());
    void this.ensureIndexesInBackground();
    const every = this.keepAliveEveryMs();
    this.keepAliveTimer = setInterval(() => this.extendHeldDeadlines(every), Math.max(100, Math.floor(every / 2)));
    this.loop = this.consumeForever();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.batches.giveBackAfter(Date.now() + this.config.SHUTDOWN_TIMEOUT_MS);
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    // Flush: with `stopping` set, pump hands over partial batches at once, and every finished
    // write pumps again until nothing is left.
    this.pump();
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
    clearInterval(this.keepAliveTimer);
  }

  private async ensureConsumer(): Promise<void> {
    const jsm = await this.nats.jsm();
    const c = this.config;
    const wanted = {
      durable_name: RECORDER_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: eventsSubjectFilter(c.TOOLPATH_SUBJECT_PREFIX),
      ack_wait: c.RECORDER_ACK_WAIT_MS * NS_PER_MS,
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
        await this.writer.ensureIndexes(this.config.RECORDER_SECONDARY_INDEXES);
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

  /**
   * Pulls until shutdown. A stream or consumer that disappears ends the fetch with an error: the
   * recorder then reports itself not ready and keeps checking, re-creating its consumer once the
   * stream is back. It does not re-create a deleted stream itself (any service does at start-up):
   * a recorder outliving its stream must not resurrect it.
   */
  private async consumeForever(): Promise<void> {
    const c = this.config;
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(c.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER);
        this.consuming = true;
        this.lastError = undefined;
        failures = 0;
        while (!this.stopping) {
          // Backpressure: a recorder holds at most (concurrency + 1) batches, written or waiting.
          while (this.heldCount() >= this.maxHeld() && this.writes.size > 0) await Promise.race(this.writes);
          if (this.stopping) break;
          const room = Math.min(c.RECORDER_BATCH_SIZE, this.maxHeld() - this.heldCount());
          this.messages = await consumer.fetch({ max_messages: Math.max(1, room), expires: FETCH_EXPIRES_MS });
          for await (const msg of this.messages) this.take(msg);
        }
      } catch (err) {
        this.lastError = (err as Error).message;
        failures++;
        if (!this.stopping && (failures === 1 || failures % 30 === 0)) {
          this.log.error(`consumer stopped (${failures} time(s) in a row), retrying: ${this.lastError}`);
        }
      } finally {
        this.consuming = false;
      }
      if (!this.stopping) {
        await Promise.race([sleep(Math.min(500 * 2 ** Math.min(failures, 5), 10_000)), this.stopped]);
        if (this.stopping) break;
        await this.ensureConsumer().catch((err) => {
          this.lastError = (err as Error).message;
        });
      }
    }
  }

  private take(msg: JsMsg): void {
    if (this.batch.msgs.length === 0) this.batch.touchedAt = this.batchStartedAt = Date.now();
    this.batch.msgs.push(msg);
    this.pump();
  }

  private maxHeld(): number {
    return (this.config.RECORDER_WRITE_CONCURRENCY + 1) * this.config.RECORDER_BATCH_SIZE;
  }

  private heldCount(): number {
    let n = this.batch.msgs.length;
    for (const b of this.held) n += b.msgs.length;
    return n;
  }

  /**
   * Group commit: the collected batch goes to a writer as soon as one is free and the batch is
   * full or has waited RECORDER_BATCH_WINDOW_MS. While every writer is busy, events keep
   * collecting, so batches grow with the load by themselves: small and quick when the stream is
   * calm, full when it is busy. (A fixed window alone made a calm stream wait the whole window,
   * and a busy one queue whole batches behind the writers.)
   */
  private pump(): void {
    const c = this.config;
    while (this.batch.msgs.length > 0 && this.writes.size < c.RECORDER_WRITE_CONCURRENCY) {
      const full = this.batch.msgs.length >= c.RECORDER_BATCH_SIZE;
      const waited = Date.now() - this.batchStartedAt >= c.RECORDER_BATCH_WINDOW_MS;
      if (!full && !waited && !this.stopping) {
        this.batchTimer ??= setTimeout(() => {
          this.batchTimer = undefined;
          this.pump();
        }, c.RECORDER_BATCH_WINDOW_MS - (Date.now() - this.batchStartedAt));
        return;
      }
      this.dispatch();
    }
  }

  /** Hands (at most a batch of) the collected messages to a writer. */
  private dispatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.batch.msgs.length === 0) return;
    const size = this.config.RECORDER_BATCH_SIZE;
    const held: HeldBatch = { msgs: this.batch.msgs.splice(0, size), touchedAt: this.batch.touchedAt };
    this.held.add(held);
    const write: Promise<void> = this.batches.write(held.msgs)
      .catch((err) => this.log.error(`batch write abandoned: ${(err as Error).message}`))
      .finally(() => {
        this.held.delete(held);
        this.writes.delete(write);
        this.pump();
      });
    this.writes.add(write);
  }

  /** A third of the ack wait, so a deadline is pushed back well before it runs out. */
  private keepAliveEveryMs(): number {
    return Math.max(50, Math.floor(this.config.RECORDER_ACK_WAIT_MS / 3));
  }

  private extendHeldDeadlines(every: number): void {
    const now = Date.now();
    for (const b of [this.batch, ...this.held]) {
      if (b.msgs.length === 0 || now - b.touchedAt < every) continue;
      for (const m of b.msgs) m.working();
      b.touchedAt = now;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
