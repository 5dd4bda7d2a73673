import { waitFor } from '@toolpath/testing';
import { RecorderHarness, RecorderMetricNames as M, scrapeMetrics } from './recorder-harness';

/*
 * A message that passes decoding but whose write keeps failing while the database answers (the
 * test-only fault hook TOOLPATH_FAULT_POISON_TOOL makes writing an event of that tool throw) is
 * tried RECORDER_PROCESSING_ATTEMPTS times alone, then dead-lettered as processing_failed with
 * the error and the number of tries, and acknowledged; every other message of its batch is
 * stored, and the consumer goes on. (The database stopped for 10 s, which must never dead-letter
 * anything, is recorder-reliability.e2e-spec.ts.)
 */

const POISON_TOOL = 'test.poison';

function body(tenantId: string, eventId: string, tool: string, i: number): string {
  return `{"specVersion":"1","kind":"tool_call","eventId":"${eventId}","tenantId":"${tenantId}","sessionId":"s${i % 7}","seq":${i},"tool":"${tool}","success":true,"startedAt":${1_795_000_000_000 + i},"durationMs":3}`;
}

describe('recorder: a poison message', () => {
  let h: RecorderHarness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is dead-lettered after its bounded tries, and the rest of its batch and the stream are stored', async () => {
    h = await RecorderHarness.open('poison');
    // A batch window long enough that the poison shares its batch with valid events.
    const rec = await h.startRecorder({ TOOLPATH_FAULT_POISON_TOOL: POISON_TOOL, RECORDER_PROCESSING_ATTEMPTS: '3', RECORDER_BATCH_WINDOW_MS: '300' });
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) sends.push(h.publishRaw(i % 2 ? 'acme' : 'globex', body(i % 2 ? 'acme' : 'globex', `v${i}`, `t${i % 3}`, i), `v${i}`));
    const poisonBody = body('acme', 'poison-1', POISON_TOOL, 60);
    const poisonAck = await h.publishRaw('acme', poisonBody, 'poison-1');
    for (let i = 61; i < 120; i++) sends.push(h.publishRaw('globex', body('globex', `v${i}`, `t${i % 3}`, i), `v${i}`));
    await Promise.all(sends);

    await waitFor(() => h!.allAcknowledged(), { timeoutMs: 20_000, intervalMs: 200, what: 'every message acknowledged' }).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await h!.diagnostics()}`);
    });
    expect(await h.db.collection('tool_events').countDocuments({})).toBe(119);
    expect(await h.db.collection('tool_events').countDocuments({ eventId: 'poison-1' })).toBe(0);
    const letters = await h.db.collection('rejected_events').find({}).toArray();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      _id: `${h.names.stream}:${poisonAck.seq}`,
      reason: 'processing_failed',
      consumer: 'recorder',
      attempts: 3,
      tenantId: 'acme',
      eventId: 'poison-1',
      streamSeq: poisonAck.seq,
    });
    expect(letters[0].message).toContain('failed 3 times');
    expect(Buffer.from(letters[0].raw.buffer).toString()).toBe(poisonBody);
    // Nothing held back: no redelivery was needed.
    expect((await h.consumerState()).redelivered).toBe(0);
    const m = await scrapeMetrics(rec);
    expect(m.get(M.rejected('processing_failed'))).toBe(1);
    expect(m.get('toolpath_recorder_processing_failures_total')).toBeGreaterThanOrEqual(3);
    expect(m.get(M.stored)).toBe(119);
  }, 30_000);
});
