import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import { RECORDER_CONSUMER, RejectReason, checkEventsSubject, eventsSubjectFilter } from '@toolpath/contracts';
import { ToolEventWriter, arrivalMillis, isStoreOutage, type RejectedEvent, type StoredToolEvent } from '@toolpath/event-store';
import { APP_CONFIG, HealthRegistry, NatsClient, isNotFound } from '@toolpath/platform';
import type { RecorderConfig } from '../recorder.config';
import { decodeEventMessage, rejection, type DecodeContext, type Decoded } from './decode-event-message';
import { RecorderMetrics } from './recorder.metrics';

const MS = 1_000_000;
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
 * however long a write and its retries take.
 *
 * A batch is retried whole only while the database is away; one that fails while it answers is
 * written a message at a time, so a poison message is dead-lettered after its bounded tries
 * (`writeAlone`) and never holds back the stream.
 */
@Injectable()
export class RecordToolEventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('RecordToolEvents');
  private writer?: ToolEventWriter;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;
  private stopDeadline = Infinity;
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
    const every = this.keepAliveEveryMs();
    this.keepAliveTimer = setInterval(() => this.extendHeldDeadlines(every), Math.max(100, Math.floor(every / 2)));
    this.loop = this.consumeForever();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.stopDeadline = Date.now() + this.config.SHUTDOWN_TIMEOUT_MS;
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
        await this.writer!.ensureIndexes(this.config.RECORDER_SECONDARY_INDEXES);
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
    const write: Promise<void> = this.writeBatch(held.msgs)
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

  private decodeContext(): DecodeContext {
    const c = this.config;
    return {
      subjectPrefix: c.TOOLPATH_SUBJECT_PREFIX,
      stream: c.TOOLPATH_EVENTS_STREAM,
      resultMaxBytes: c.RECORDER_RESULT_MAX_BYTES,
      receivedAt: new Date(),
    };
  }

  /** One message as the row to store or its dead letter; throws only if decoding itself breaks. */
  private decode(m: JsMsg, ctx: DecodeContext): Decoded {
    // receivedAt = the stream's timestamp: the arrival the analyzer reads from the stream too.
    const arrived = arrivalMillis(m.info.timestampNanos);
    return decodeEventMessage({ data: m.data, subject: m.subject, streamSeq: m.seq, ...(arrived !== undefined ? { receivedAt: new Date(arrived) } : {}) }, ctx);
  }

  /**
   * Writes a batch and acknowledges it. The whole batch is retried for as long as the database is
   * away (an outage never dead-letters events); a failure while the database answers is put down
   * to the batch's documents (a poison message), and the batch is then written one message at a
   * time, each with RECORDER_PROCESSING_ATTEMPTS tries (`writeAlone`), so only the poison is
   * dead-lettered and every other message is stored. How an outage is told from a per-document
   * failure: `isStoreOutage` (a connection-level error, or a ping plus a one-row read that fail).
   */
  private async writeBatch(msgs: JsMsg[]): Promise<void> {
    const ctx = this.decodeContext();
    const started = performance.now();
    const rows: StoredToolEvent[] = [];
    const rowMsgs: JsMsg[] = [];
    let rejects: RejectedEvent[] = [];
    let decodeFailed = false;
    for (const m of msgs) {
      let d: Decoded;
      try {
        d = this.decode(m, ctx);
      } catch {
        // Decoding is pure: the message alone is the cause; writeAlone retries and dead-letters it.
        decodeFailed = true;
        break;
      }
      if (d.ok) {
        rows.push(d.row);
        rowMsgs.push(m);
      } else rejects.push(d.rejected);
    }

    let alone = decodeFailed;
    let eventsDone = false;
    for (let attempt = 0; !alone; attempt++) {
      try {
        if (!eventsDone) {
          rejects.push(...(await this.insertRows(rows, rowMsgs, ctx)));
          eventsDone = true;
        }
        await this.writer!.insertRejected(rejects);
        break;
      } catch (err) {
        this.giveBackIfPastShutdown(msgs, err);
        if (await isStoreOutage(err, this.connection.db!)) {
          // The held batch's ack deadline is pushed back by the keep-alive timer meanwhile, however
          // long an attempt blocks (server selection alone can outlast a short ack wait).
          this.metrics.writeRetries.inc();
          if (attempt % 10 === 0) this.log.warn(`write failed (attempt ${attempt + 1}), retrying: ${(err as Error).message}`);
          await sleep(Math.min(100 * 2 ** Math.min(attempt, 6), 3000));
          continue;
        }
        this.metrics.processingFailures.inc();
        this.log.warn(`batch of ${msgs.length} failed with the database answering, writing its messages one at a time: ${(err as Error).message}`);
        alone = true;
      }
    }
    if (alone) {
      // Rows a first attempt stored are found again by their key (counted as duplicates).
      rejects = [];
      for (const m of msgs) rejects.push(...(await this.writeAlone(m)));
    }

    for (const r of rejects) this.metrics.rejected.inc({ reason: r.reason });
    for (const m of msgs) m.ack();
    const now = Date.now();
    this.metrics.batchSize.observe(msgs.length);
    this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
    for (const m of msgs) this.metrics.storeLatency.observe((now - m.info.timestampNanos / MS) / 1000);
  }

  /**
   * One message on its own: decoded, stored (or its dead letter written), with up to
   * RECORDER_PROCESSING_ATTEMPTS tries while the database answers; after the last, the message is
   * dead-lettered as `processing_failed` with the error and the number of tries. Tries during an
   * outage do not count. Returns the dead letters written for it.
   */
  private async writeAlone(m: JsMsg): Promise<RejectedEvent[]> {
    const max = this.config.RECORDER_PROCESSING_ATTEMPTS;
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      const ctx = this.decodeContext();
      try {
        const d = this.decode(m, ctx);
        const rejects = d.ok ? await this.insertRows([d.row], [m], ctx) : [d.rejected];
        await this.writer!.insertRejected(rejects);
        return rejects;
      } catch (err) {
        this.giveBackIfPastShutdown([m], err);
        if (await isStoreOutage(err, this.connection.db!)) {
          this.metrics.writeRetries.inc();
          await sleep(Math.min(100 * 2 ** Math.min(attempt, 6), 3000));
          continue;
        }
        this.metrics.processingFailures.inc();
        if (++failures < max) {
          await sleep(50 * failures);
          continue;
        }
        const dead = this.deadLetter(m, ctx, err as Error, failures);
        this.log.error(`message ${m.seq} failed ${failures} times with the database answering; dead-lettered as ${dead.reason}: ${(err as Error).message}`);
        await this.writeDeadLetter(dead, m);
        return [dead];
      }
    }
  }

  /** A `processing_failed` dead letter: the subject's tenant, the event id if the body has one. */
  private deadLetter(m: JsMsg, ctx: DecodeContext, err: Error, attempts: number): RejectedEvent {
    const tenantId = checkEventsSubject(ctx.subjectPrefix, m.subject).tenantId;
    let eventId: string | null = null;
    try {
      const body = JSON.parse(Buffer.from(m.data).toString('utf8')) as { eventId?: unknown };
      if (typeof body?.eventId === 'string') eventId = body.eventId;
    } catch {
      // No id to give: the raw bytes are kept anyway.
    }
    const arrived = arrivalMillis(m.info.timestampNanos);
    const raw = { data: m.data, subject: m.subject, streamSeq: m.seq, ...(arrived !== undefined ? { receivedAt: new Date(arrived) } : {}) };
    return {
      ...rejection(raw, ctx, tenantId, RejectReason.ProcessingFailed, [{ field: '(processing)', message: `failed ${attempts} times: ${err.message}` }], eventId),
      consumer: 'recorder',
      attempts,
    };
  }

  /** Writes a dead letter, retrying for as long as the database is away (it is what lets the message be acknowledged). */
  private async writeDeadLetter(dead: RejectedEvent, m: JsMsg): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writer!.insertRejected([dead]);
        return;
      } catch (err) {
        this.giveBackIfPastShutdown([m], err);
        this.metrics.writeRetries.inc();
        if (attempt % 10 === 0) this.log.warn(`dead letter ${dead._id} not written (attempt ${attempt + 1}), retrying: ${(err as Error).message}`);
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 6), 3000));
      }
    }
  }

  /**
   * Inserts the rows; returns the dead letters of rows the database refused for their content
   * after RECORDER_PROCESSING_ATTEMPTS tries (`storage_rejected`). Throws for failures of the
   * whole call, which the caller classifies.
   */
  private async insertRows(rows: StoredToolEvent[], rowMsgs: JsMsg[], ctx: DecodeContext): Promise<RejectedEvent[]> {
    const poison = this.config.TOOLPATH_FAULT_POISON_TOOL;
    if (poison !== undefined) {
      const hit = rows.find((r) => r.tool === poison);
      if (hit) throw new InjectedFault(`fault injected by TOOLPATH_FAULT_POISON_TOOL writing event ${hit.eventId} (tool "${poison}")`);
    }
    const max = this.config.RECORDER_PROCESSING_ATTEMPTS;
    let pending = rows.map((row, i) => ({ row, msg: rowMsgs[i] }));
    const rejects: RejectedEvent[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const outcome = await this.writer!.insertEvents(pending.map((p) => p.row));
      this.metrics.stored.inc(outcome.inserted);
      this.metrics.duplicates.inc(outcome.duplicates);
      const refused = outcome.refused.map((r) => ({ ...pending[r.index], message: r.message }));
      if (refused.length === 0) break;
      // A refusal may be passing (e.g. a conflict): tried again alone, dead-lettered after the last try.
      if (attempt < max) {
        this.metrics.processingFailures.inc(refused.length);
        pending = refused;
        await sleep(50 * attempt);
        continue;
      }
      for (const r of refused) {
        rejects.push({
          ...rejection({ data: r.msg.data, subject: r.msg.subject, streamSeq: r.msg.seq }, ctx, r.row.tenantId, RejectReason.StorageRejected, [
            { field: '(document)', message: `the database refused the event: ${r.message}` },
          ], r.row.eventId),
          attempts: attempt,
        });
      }
      break;
    }
    return rejects;
  }

  /** At shutdown, past its deadline: the messages go back to the stream for another recorder (or this one, restarted). */
  private giveBackIfPastShutdown(msgs: JsMsg[], err: unknown): void {
    if (!this.stopping || Date.now() <= this.stopDeadline) return;
    for (const m of msgs) m.nak();
    throw err;
  }
}

/** The test-only fault (TOOLPATH_FAULT_POISON_TOOL): a processing failure of one document. */
class InjectedFault extends Error {
  override name = 'InjectedFault';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
