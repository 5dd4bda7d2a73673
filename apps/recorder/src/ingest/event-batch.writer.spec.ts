import { getConnectionToken } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { MongoNetworkError } from 'mongodb';
import type { JsMsg } from 'nats';
import { RejectReason } from '@toolpath/contracts';
import { ToolEventWriter, type InsertOutcome, type RejectedEvent, type StoredToolEvent } from '@toolpath/event-store';
import { APP_CONFIG, MetricsService, loadConfig } from '@toolpath/platform';
import { recorderConfigSchema } from '../recorder.config';
import { TOOL_EVENT_WRITER } from '../recorder.module';
import { EventBatchWriter } from './event-batch.writer';
import { RecorderMetrics } from './recorder.metrics';

/**
 * How a batch becomes rows, dead letters and acknowledgements, with the event store in memory
 * (Nest builds the writer as the app does; `overrideProvider` swaps the store). The real store and
 * stream are covered against infrastructure in apps/recorder/test.
 */

/** The event store in memory: rows by `_id` (a second insert of one is a duplicate), dead letters by `_id`. */
class InMemoryEventStore implements Pick<ToolEventWriter, 'insertEvents' | 'insertRejected' | 'ensureIndexes'> {
  readonly rows = new Map<string, StoredToolEvent>();
  readonly rejected = new Map<string, RejectedEvent>();
  calls = 0;
  /** Makes a whole insert call fail (as the driver throws) while it returns an error. */
  failCall: (rows: StoredToolEvent[]) => Error | undefined = () => undefined;
  /** Makes the server refuse one row for its content while it returns a message. */
  refuseRow: (row: StoredToolEvent) => string | undefined = () => undefined;

  async insertEvents(rows: StoredToolEvent[]): Promise<InsertOutcome> {
    this.calls++;
    const failure = this.failCall(rows);
    if (failure) throw failure;
    const outcome: InsertOutcome = { inserted: 0, duplicates: 0, refused: [] };
    rows.forEach((row, index) => {
      const refusal = this.refuseRow(row);
      if (refusal) outcome.refused.push({ index, code: 2, message: refusal });
      else if (this.rows.has(row._id)) outcome.duplicates++;
      else {
        this.rows.set(row._id, row);
        outcome.inserted++;
      }
    });
    return outcome;
  }

  async insertRejected(rows: RejectedEvent[]): Promise<number> {
    for (const r of rows) this.rejected.set(r._id, r);
    return rows.length;
  }

  async ensureIndexes(): Promise<void> {}
}

/** A database that answers (ping and a one-row read): failures then count as the documents' own. */
const answeringDb = { command: async () => ({ ok: 1 }), collection: () => ({ findOne: async () => null }) };
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

interface Delivered {
  msg: JsMsg;
  acked: () => boolean;
  naked: () => boolean;
}

let seq = 0;
function delivered(body: unknown, tenantId = 'acme'): Delivered {
  let acked = false;
  let naked = false;
  const msg = {
    seq: ++seq,
    subject: `tp.events.${tenantId}`,
    data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    info: { timestampNanos: Date.now() * 1_000_000 },
    ack: () => (acked = true),
    nak: () => (naked = true),
    working: () => undefined,
  } as unknown as JsMsg;
  return { msg, acked: () => acked, naked: () => naked };
}

function toolCall(eventId: string, tool = 'gh.pr.get') {
  return { specVersion: '1', kind: 'tool_call', eventId, tenantId: 'acme', sessionId: 's1', tool, success: true, startedAt: new Date().toISOString(), durationMs: 5 };
}

describe('EventBatchWriter with the event store in memory', () => {
  let store: InMemoryEventStore;
  let app: TestingModule;
  let batches: EventBatchWriter;
  let metrics: RecorderMetrics;

  beforeEach(async () => {
    store = new InMemoryEventStore();
    app = await Test.createTestingModule({
      providers: [
        { provide: APP_CONFIG, useValue: loadConfig(recorderConfigSchema, { TOOLPATH_SUBJECT_PREFIX: 'tp', RECORDER_PROCESSING_ATTEMPTS: '2' }) },
        { provide: getConnectionToken(), useValue: { db: answeringDb } },
        TOOL_EVENT_WRITER,
        MetricsService,
        RecorderMetrics,
        EventBatchWriter,
      ],
    })
      .overrideProvider(ToolEventWriter)
      .useValue(store)
      .setLogger(silent)
      .compile();
    batches = app.get(EventBatchWriter);
    metrics = app.get(RecorderMetrics);
  });
  afterEach(() => app.close());

  const count = async (c: RecorderMetrics['stored']) => (await c.get()).values.reduce((n, v) => n + v.value, 0);

  it('stores the valid events and dead-letters the invalid ones of a batch in one write, then acknowledges every message', async () => {
    const batch = [delivered(toolCall('e1')), delivered('{"kind":'), delivered(toolCall('e2')), delivered(toolCall('e3', ''))];
    await batches.write(batch.map((d) => d.msg));
    expect([...store.rows.values()].map((r) => r.eventId)).toEqual(['e1', 'e2']);
    expect([...store.rejected.values()].map((r) => [r.streamSeq, r.reason])).toEqual([
      [batch[1].msg.seq, RejectReason.MalformedJson],
      [batch[3].msg.seq, RejectReason.InvalidEvent],
    ]);
    expect(store.calls).toBe(1);
    expect(batch.every((d) => d.acked() && !d.naked())).toBe(true);
    expect(await count(metrics.stored)).toBe(2);
  });

  it('stores a redelivered batch once: its rows count as duplicates and are acknowledged again', async () => {
    const first = [delivered(toolCall('e1')), delivered(toolCall('e2'))];
    await batches.write(first.map((d) => d.msg));
    const again = [delivered(toolCall('e1')), delivered(toolCall('e2'))];
    await batches.write(again.map((d) => d.msg));
    expect(store.rows.size).toBe(2);
    expect(await count(metrics.duplicates)).toBe(2);
    expect(again.every((d) => d.acked())).toBe(true);
  });

  it('writes a batch that fails with the database answering one message at a time: only the poison is dead-lettered, after RECORDER_PROCESSING_ATTEMPTS tries', async () => {
    store.failCall = (rows) => (rows.some((r) => r.tool === 'poison') ? new Error('document failed validation') : undefined);
    const batch = [delivered(toolCall('e1')), delivered(toolCall('e2', 'poison')), delivered(toolCall('e3'))];
    await batches.write(batch.map((d) => d.msg));
    expect([...store.rows.values()].map((r) => r.eventId).sort()).toEqual(['e1', 'e3']);
    const [letter] = store.rejected.values();
    expect(store.rejected.size).toBe(1);
    expect(letter).toMatchObject({ reason: RejectReason.ProcessingFailed, streamSeq: batch[1].msg.seq, eventId: 'e2', consumer: 'recorder', attempts: 2 });
    expect(batch.every((d) => d.acked())).toBe(true);
  });

  it('dead-letters a row the database keeps refusing for its content as storage_rejected; its batch is stored', async () => {
    store.refuseRow = (row) => (row.eventId === 'e2' ? 'string contains NUL' : undefined);
    const batch = [delivered(toolCall('e1')), delivered(toolCall('e2')), delivered(toolCall('e3'))];
    await batches.write(batch.map((d) => d.msg));
    expect(store.rows.size).toBe(2);
    expect([...store.rejected.values()]).toEqual([expect.objectContaining({ reason: RejectReason.StorageRejected, eventId: 'e2', attempts: 2 })]);
    expect(batch.every((d) => d.acked())).toBe(true);
  });

  it('retries the whole batch while the database is away, dead-lettering nothing, and acknowledges once it is stored', async () => {
    let outage = 2;
    store.failCall = () => (outage-- > 0 ? new MongoNetworkError('connection refused') : undefined);
    const batch = [delivered(toolCall('e1')), delivered(toolCall('e2'))];
    await batches.write(batch.map((d) => d.msg));
    expect(store.calls).toBe(3);
    expect(store.rows.size).toBe(2);
    expect(store.rejected.size).toBe(0);
    expect(await count(metrics.writeRetries)).toBe(2);
    expect(batch.every((d) => d.acked())).toBe(true);
  });

  it('past the shutdown deadline, gives a failing batch back to the stream instead of retrying it', async () => {
    store.failCall = () => new MongoNetworkError('connection refused');
    batches.giveBackAfter(Date.now() - 1);
    const batch = [delivered(toolCall('e1')), delivered(toolCall('e2'))];
    await expect(batches.write(batch.map((d) => d.msg))).rejects.toThrow('connection refused');
    expect(store.calls).toBe(1);
    expect(batch.every((d) => d.naked() && !d.acked())).toBe(true);
  });
});
