import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { JsMsg } from 'nats';
import { RejectReason, checkEventsSubject } from '@toolpath/contracts';
import { ToolEventWriter, arrivalMillis, isStoreOutage, type RejectedEvent, type StoredToolEvent } from '@toolpath/event-store';
import { APP_CONFIG } from '@toolpath/platform';
import type { RecorderConfig } from '../recorder.config';
import { decodeEventMessage, rejection, type DecodeContext, type Decoded } from './decode-event-message';
import { RecorderMetrics } from './recorder.metrics';

const NS_PER_MS = 1_000_000;

/**
 * Writes one batch of stream messages to the event store and acknowledges it: the valid events
 * as rows, the invalid ones as dead letters, each message acknowledged only once what it became
 * is stored (a crash before that redelivers it; its `_id` makes the second write a duplicate).
 *
 * A batch is retried whole only while the database is away; one that fails while it answers is
 * written a message at a time, so a poison message is dead-lettered after its bounded tries
 * (`writeAlone`) and never holds back the stream.
 */
@Injectable()
export class EventBatchWriter {
  private readonly log = new Logger('RecordToolEvents');
  /** Past this time (set at shutdown), a write that fails gives its messages back instead of retrying. */
  private giveBackAt = Infinity;

  constructor(
    @Inject(APP_CONFIG) private readonly config: RecorderConfig,
    @InjectConnection() private readonly connection: Connection,
    private readonly writer: ToolEventWriter,
    private readonly metrics: RecorderMetrics,
  ) {}

  /** At shutdown: writes still failing after `deadline` hand their messages back to the stream. */
  giveBackAfter(deadline: number): void {
    this.giveBackAt = deadline;
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
  async write(msgs: JsMsg[]): Promise<void> {
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
        await this.writer.insertRejected(rejects);
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
    for (const m of msgs) this.metrics.storeLatency.observe((now - m.info.timestampNanos / NS_PER_MS) / 1000);
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
        await this.writer.insertRejected(rejects);
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
        await this.writer.insertRejected([dead]);
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
      const outcome = await this.writer.insertEvents(pending.map((p) => p.row));
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
    if (Date.now() <= this.giveBackAt) return;
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
