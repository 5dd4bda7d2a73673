import type { Binary } from 'mongodb';
import { RejectReason, type ToolEventInput } from '@toolpath/contracts';
import { buildEvent, encodeEvent, publishEncoded } from '@toolpath/sdk';
import { waitFor, type ServiceProcess } from '@toolpath/testing';
import { RecorderHarness, RecorderMetricNames as M, healthStatus, scrapeMetrics, sleep } from './recorder-harness';

/**
 * The recorder as a real process against the real NATS and FerretDB: valid events stored once,
 * invalid ones dead-lettered with their reason, field and bytes, and nothing stopping it.
 */

const TENANT = 'acme';

function toolCall(over: Partial<ToolEventInput> = {}): ToolEventInput {
  return {
    kind: 'tool_call',
    sessionId: 'sess-1',
    tool: 'github.get_pr',
    parameters: { repo: 'acme/app', pr: 1 },
    success: true,
    startedAt: '2026-11-21T10:00:00.000Z',
    durationMs: 10,
    ...over,
  } as ToolEventInput;
}

function rawEvent(over: Record<string, unknown>): string {
  return JSON.stringify({
    specVersion: '1',
    kind: 'tool_call',
    eventId: 'raw',
    tenantId: TENANT,
    sessionId: 'sess-raw',
    tool: 'shell.exec',
    success: true,
    startedAt: 1_795_000_000_000,
    durationMs: 1,
    ...over,
  });
}

interface RejectedRow {
  _id: string;
  reason: string;
  field: string | null;
  tenantId: string | null;
  eventId: string | null;
  subject: string;
  raw: Binary;
}

describe('recorder process: mixed valid and invalid events', () => {
  let h: RecorderHarness;
  let recorder: ServiceProcess;
  const valid: Array<{ eventId: string; startedAt: number }> = [];
  /** What each invalid message must become: reason, field, and the bytes sent. */
  const invalid: Array<{ label: string; reason: string; field: string; bytes: Buffer; eventId: string | null }> = [];

  beforeAll(async () => {
    h = await RecorderHarness.open('rec');
    const publishValid = async (input: ToolEventInput) => {
      const ev = buildEvent(input, { tenantId: TENANT, source: 'recorder-e2e' });
      const ack = await publishEncoded(h.js, encodeEvent(ev, h.names.subjectPrefix));
      expect(ack.duplicate).toBe(false);
      valid.push({ eventId: ev.eventId, startedAt: typeof ev.startedAt === 'number' ? ev.startedAt : Date.parse(ev.startedAt) });
    };
    const publishInvalid = async (label: string, reason: string, field: string, text: string, eventId: string | null, tenant = TENANT) => {
      const bytes = Buffer.from(text);
      await h.publishRaw(tenant, bytes, `bad-${label}`);
      invalid.push({ label, reason, field, bytes, eventId });
    };

    // Published before the recorder starts, so good and bad rows share its first batches.
    for (let i = 0; i < 10; i++) await publishValid(toolCall({ seq: i, sessionId: `sess-${i % 3}` }));
    await publishInvalid('malformed', RejectReason.MalformedJson, '(root)', '{"specVersion":"1","kind":"tool_call",', null);
    await publishValid(toolCall({ startedAt: 1_795_000_123_456, tool: 'jira.create_issue' }));
    await publishInvalid('missing', RejectReason.InvalidEvent, 'sessionId', rawEvent({ eventId: 'no-session', sessionId: undefined }), 'no-session');
    await publishInvalid('wrong-type', RejectReason.InvalidEvent, 'success', rawEvent({ eventId: 'bad-success', success: 'yes' }), 'bad-success');
    await publishValid({ kind: 'session_end', sessionId: 'sess-1', intent: 'review the PR', success: true, startedAt: '2026-11-21T10:05:00+01:00', durationMs: 300 });
    await publishInvalid('tenant', RejectReason.TenantMismatch, 'tenantId', rawEvent({ eventId: 'other-tenant', tenantId: 'globex' }), 'other-tenant');
    await publishInvalid('version', RejectReason.UnsupportedSpecVersion, 'specVersion', rawEvent({ eventId: 'v2', specVersion: '2' }), 'v2');
    // No Mongo-compatible database can store a key holding NUL: the contract refuses it, naming it.
    await publishInvalid('nul-key', RejectReason.InvalidEvent, 'parameters.a\\u0000b', rawEvent({ eventId: 'nul-key', parameters: { 'a\u0000b': 1 } }), 'nul-key');
    await publishValid(toolCall({ tool: 'search.web', result: { hits: Array.from({ length: 9000 }, (_, i) => ({ i, snippet: 'w'.repeat(80) })) } }));
    // Nested 10,000 deep (built as text: JSON.stringify of such a value overflows the stack).
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    for (const field of ['parameters', 'result']) {
      await publishInvalid(`deep-${field}`, RejectReason.InvalidEvent, field, `${rawEvent({ eventId: `deep-${field}` }).slice(0, -1)},"${field}":${deep}}`, `deep-${field}`);
    }
    for (let i = 10; i < 20; i++) await publishValid(toolCall({ seq: i }));

    recorder = await h.startRecorder();
    await waitFor(() => h.allAcknowledged(), { timeoutMs: 30_000, what: 'every message acknowledged' }).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- recorder output ---\n${recorder.output().slice(-3000)}`);
    });
  }, 90_000);

  afterAll(async () => {
    await h?.close();
  });

  it('stores every valid event exactly once, keyed by tenant and event id', async () => {
    const rows = await h.db
      .collection<{ _id: string; eventId: string; startedAt: Date; receivedAt: Date; streamSeq: number }>('tool_events')
      .find({})
      .toArray();
    expect(rows.map((r) => r._id).sort()).toEqual(valid.map((v) => `${TENANT}:${v.eventId}`).sort());
    for (const r of rows) {
      expect(r.startedAt).toBeInstanceOf(Date);
      expect(r.receivedAt).toBeInstanceOf(Date);
      expect(r.streamSeq).toBeGreaterThan(0);
    }
    const byId = new Map(rows.map((r) => [r.eventId, r]));
    for (const v of valid) expect(byId.get(v.eventId)!.startedAt.getTime()).toBe(v.startedAt);
  });

  it('stores a 900 KB result cut to 64 KB and marked truncated', async () => {
    const rows = await h.db.collection<{ _id: string; tool: string; result: unknown; resultTruncated?: boolean; resultBytes?: number }>('tool_events').find({}).toArray();
    const truncated = rows.filter((r) => r.resultTruncated);
    expect(truncated).toHaveLength(1);
    expect(truncated[0].tool).toBe('search.web');
    expect(typeof truncated[0].result).toBe('string');
    expect(Buffer.byteLength(truncated[0].result as string)).toBeLessThanOrEqual(64 * 1024);
    expect(truncated[0].resultBytes).toBeGreaterThan(900 * 1000);
  });

  it('dead-letters each invalid message with its reason, field, tenant and raw bytes', async () => {
    const rows = await h.db.collection<RejectedRow>('rejected_events').find({}).toArray();
    expect(rows).toHaveLength(invalid.length);
    for (const want of invalid) {
      const got = rows.find((r) => Buffer.from(r.raw.buffer).equals(want.bytes));
      expect({ label: want.label, found: got !== undefined }).toEqual({ label: want.label, found: true });
      expect({ label: want.label, reason: got!.reason, field: got!.field, eventId: got!.eventId, tenantId: got!.tenantId, subject: got!.subject }).toEqual({
        label: want.label,
        reason: want.reason,
        field: want.field,
        eventId: want.eventId,
        tenantId: TENANT,
        subject: h.subject(TENANT),
      });
    }
  });

  it('keeps running and reports stored, rejected-by-reason and duplicate counts', async () => {
    expect((await healthStatus(recorder)).status).toBe(200);
    const m = await scrapeMetrics(recorder);
    expect(m.get(M.stored)).toBe(valid.length);
    expect(m.get(M.duplicates)).toBe(0);
    const byReason = new Map<string, number>();
    for (const i of invalid) byReason.set(i.reason, (byReason.get(i.reason) ?? 0) + 1);
    for (const [reason, n] of byReason) expect({ reason, n: m.get(M.rejected(reason)) }).toEqual({ reason, n });
    expect(m.has('toolpath_recorder_consumer_pending')).toBe(true);
  });

  it('stores an event id published twice under different Nats-Msg-Ids once, and counts the duplicate', async () => {
    const before = await scrapeMetrics(recorder);
    const ev = buildEvent(toolCall({ eventId: 'twice', tool: 'retry.me' }), { tenantId: TENANT });
    const encoded = encodeEvent(ev, h.names.subjectPrefix);
    // Different message ids: the stream's own de-duplication cannot catch it, so it keeps both.
    const first = await h.publishRaw(TENANT, encoded.data, 'producer-attempt-1');
    const second = await h.publishRaw(TENANT, encoded.data, 'producer-attempt-2');
    expect([first.duplicate, second.duplicate]).toEqual([false, false]);
    expect(second.seq).toBe(first.seq + 1);
    // The same message id again: the stream drops it and the recorder never sees it.
    expect((await h.publishRaw(TENANT, encoded.data, 'producer-attempt-1')).duplicate).toBe(true);

    await waitFor(() => h.allAcknowledged(), { timeoutMs: 20_000, what: 'both copies acknowledged' });
    expect(await h.db.collection('tool_events').countDocuments({ _id: `${TENANT}:twice` as never })).toBe(1);
    const after = await scrapeMetrics(recorder);
    expect(after.get(M.stored)! - before.get(M.stored)!).toBe(1);
    expect(after.get(M.duplicates)! - before.get(M.duplicates)!).toBe(1);
    expect(await h.db.collection('tool_events').countDocuments({})).toBe(valid.length + 1);
  });
});

describe('recorder process: its stream is deleted under it', () => {
  let h: RecorderHarness;

  afterAll(async () => {
    await h?.close();
  });

  it('reports itself not ready, does not resurrect the stream, and still stops promptly', async () => {
    h = await RecorderHarness.open('recdel');
    const recorder = await h.startRecorder();
    await h.publishSmallEvents(TENANT, 5);
    await waitFor(async () => (await scrapeMetrics(recorder)).get(M.stored) === 5, { timeoutMs: 20_000, what: '5 rows stored' });

    const jsm = await h.nc!.jetstreamManager();
    await jsm.streams.delete(h.names.stream);
    const down = await waitFor(
      async () => {
        const res = await healthStatus(recorder);
        return res.status === 503 ? res : undefined;
      },
      { timeoutMs: 15_000, what: 'health to turn 503' },
    );
    expect(down.body).toContain('consumer');
    await sleep(3000);
    await expect(jsm.streams.info(h.names.stream)).rejects.toThrow(/not found/);
    expect(recorder.proc.exitCode).toBeNull();

    const started = Date.now();
    await recorder.stop(10_000);
    expect(Date.now() - started).toBeLessThan(8000);
  }, 60_000);
});
