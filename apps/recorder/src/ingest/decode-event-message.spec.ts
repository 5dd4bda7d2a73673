import { RejectReason } from '@toolpath/contracts';
import { loadConfig } from '@toolpath/platform';
import { recorderConfigSchema } from '../recorder.config';
import { decodeEventMessage, type DecodeContext, type Decoded, type RawMessage } from './decode-event-message';

const PREFIX = 'tp_unit';
const RESULT_CAP = loadConfig(recorderConfigSchema, {}).RECORDER_RESULT_MAX_BYTES;
const receivedAt = new Date('2026-11-21T12:00:00.000Z');
const ctx: DecodeContext = { subjectPrefix: PREFIX, stream: 'TP_UNIT', resultMaxBytes: RESULT_CAP, receivedAt };

function event(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specVersion: '1',
    kind: 'tool_call',
    eventId: 'ev-1',
    tenantId: 'acme',
    sessionId: 'sess-1',
    seq: 0,
    tool: 'github.get_pr',
    parameters: { repo: 'acme/app', pr: 7 },
    success: true,
    startedAt: '2026-11-21T10:00:00.000Z',
    durationMs: 12,
    ...over,
  };
}

/** Bytes as they arrive from NATS: a view into a larger buffer, not a buffer of their own. */
function bytes(text: string): Uint8Array {
  const padded = Buffer.from(`##${text}##`, 'utf8');
  return new Uint8Array(padded.buffer, padded.byteOffset + 2, padded.length - 4);
}

function message(body: string | Record<string, unknown>, tenant = 'acme', streamSeq = 41): RawMessage {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { data: bytes(text), subject: `${PREFIX}.events.${tenant}`, streamSeq };
}

function stored(d: Decoded) {
  if (!d.ok) throw new Error(`expected a row, got ${d.rejected.reason}: ${d.rejected.message}`);
  return d.row;
}

function rejected(d: Decoded) {
  if (d.ok) throw new Error(`expected a rejection, got row ${d.row._id}`);
  return d.rejected;
}

describe('decodeEventMessage: arrival', () => {
  it("stores the message's stream timestamp as receivedAt, the arrival the analyzer reads from the stream", () => {
    const arrived = new Date('2026-11-21T12:00:00.123Z');
    expect(stored(decodeEventMessage({ ...message(event()), receivedAt: arrived }, ctx)).receivedAt).toEqual(arrived);
    expect(rejected(decodeEventMessage({ ...message('not json'), receivedAt: arrived }, ctx)).receivedAt).toEqual(arrived);
    // Without one (a message read some other way), the batch's time.
    expect(stored(decodeEventMessage(message(event()), ctx)).receivedAt).toEqual(receivedAt);
  });
});

describe('decodeEventMessage: rejections', () => {
  it('dead-letters malformed JSON with the bytes as received and the subject tenant', () => {
    const msg = message('{"specVersion":"1","eventId":"ev-1",');
    const r = rejected(decodeEventMessage(msg, ctx));
    expect(r).toMatchObject({
      _id: 'TP_UNIT:41',
      reason: RejectReason.MalformedJson,
      field: '(root)',
      tenantId: 'acme',
      subject: `${PREFIX}.events.acme`,
      eventId: null,
      streamSeq: 41,
      receivedAt,
    });
    expect(r.message).toMatch(/not JSON/);
    expect(Buffer.isBuffer(r.raw)).toBe(true);
    expect(r.raw.equals(Buffer.from(msg.data))).toBe(true);
  });

  it.each([
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"tool_call"'],
    ['JSON null', 'null'],
  ])('dead-letters %s as an invalid event at the root', (_label, text) => {
    const r = rejected(decodeEventMessage(message(text), ctx));
    expect(r).toMatchObject({ reason: RejectReason.InvalidEvent, field: '(root)' });
  });

  it.each([
    ['success', { success: 'yes' }],
    ['durationMs', { durationMs: '12' }],
    ['durationMs', { durationMs: -1 }],
    ['seq', { seq: 1.5 }],
    ['parameters', { parameters: ['repo'] }],
    ['eventId', { eventId: 42 }],
    ['tool', { tool: '' }],
    ['tenantId', { tenantId: 'acme.eu' }],
    ['startedAt', { startedAt: 'yesterday' }],
    ['startedAt', { startedAt: '2026-11-21T10:00:00' }],
  ])('names the field of a wrong type or value: %s', (field, over) => {
    const r = rejected(decodeEventMessage(message(event(over)), ctx));
    expect(r.reason).toBe(RejectReason.InvalidEvent);
    expect(r.field).toBe(field);
    expect(r.issues[0].field).toBe(field);
    expect(r.message).toContain(`${field}:`);
  });

  it.each(['sessionId', 'success', 'startedAt', 'durationMs', 'tool', 'eventId', 'tenantId'])('names a missing required field: %s', (field) => {
    const body = event();
    delete body[field];
    const r = rejected(decodeEventMessage(message(body), ctx));
    expect(r.reason).toBe(RejectReason.InvalidEvent);
    expect(r.field).toBe(field);
  });

  it('keeps the eventId of an invalid event when it can read one', () => {
    const r = rejected(decodeEventMessage(message(event({ eventId: 'ev-9', success: 1 })), ctx));
    expect(r.eventId).toBe('ev-9');
  });

  it('accepts a session_end without a tool, which a tool_call needs', () => {
    const body = event({ kind: 'session_end', intent: 'review a PR' });
    delete body.tool;
    expect(stored(decodeEventMessage(message(body), ctx)).kind).toBe('session_end');
    const r = rejected(decodeEventMessage(message({ ...body, kind: 'tool_call' }), ctx));
    expect(r.field).toBe('tool');
  });

  it('refuses a body whose tenant differs from the subject, filed under the subject tenant', () => {
    const r = rejected(decodeEventMessage(message(event({ tenantId: 'globex' }), 'acme'), ctx));
    expect(r).toMatchObject({ reason: RejectReason.TenantMismatch, field: 'tenantId', tenantId: 'acme', eventId: 'ev-1' });
    expect(r.message).toContain('globex');
  });

  it('refuses an event on a subject that is not exactly <prefix>.events.<tenant>, filed under its first token', () => {
    const msg: RawMessage = { ...message(event()), subject: `${PREFIX}.events.acme.extra` };
    const r = rejected(decodeEventMessage(msg, ctx));
    expect(r).toMatchObject({ reason: RejectReason.InvalidSubject, field: '(subject)', tenantId: 'acme', eventId: 'ev-1' });
    expect(r.message).toContain(`"${PREFIX}.events.acme.extra"`);
    const bare = rejected(decodeEventMessage({ ...message('not json'), subject: `${PREFIX}.events` }, ctx));
    expect(bare).toMatchObject({ reason: RejectReason.InvalidSubject, tenantId: null });
  });

  it.each([['2'], [1], ['1.1'], [null]])('reports an unknown specVersion %p as such, not as a schema error', (version) => {
    const r = rejected(decodeEventMessage(message(event({ specVersion: version })), ctx));
    expect(r).toMatchObject({ reason: RejectReason.UnsupportedSpecVersion, field: 'specVersion' });
  });

  it('treats a missing specVersion as an invalid event naming the field', () => {
    const body = event();
    delete body.specVersion;
    expect(rejected(decodeEventMessage(message(body), ctx))).toMatchObject({ reason: RejectReason.InvalidEvent, field: 'specVersion' });
  });
});

describe('decodeEventMessage: stored rows', () => {
  it('keys the row by tenant and event id and adds what the recorder knows', () => {
    const row = stored(decodeEventMessage(message(event(), 'acme', 7), ctx));
    expect(row).toMatchObject({
      _id: 'acme:ev-1',
      eventId: 'ev-1',
      tenantId: 'acme',
      sessionId: 'sess-1',
      tool: 'github.get_pr',
      parameters: { repo: 'acme/app', pr: 7 },
      streamSeq: 7,
      receivedAt,
    });
  });

  it.each([
    ['ISO-8601 in UTC', '2026-11-21T10:00:00.123Z', Date.UTC(2026, 10, 21, 10, 0, 0, 123)],
    ['ISO-8601 with an offset', '2026-11-21T12:00:00+02:00', Date.UTC(2026, 10, 21, 10, 0, 0)],
    ['epoch milliseconds', 1_795_255_128_657, 1_795_255_128_657],
    ['epoch zero', 0, 0],
  ])('normalises startedAt given as %s to a Date', (_label, startedAt, millis) => {
    const row = stored(decodeEventMessage(message(event({ startedAt })), ctx));
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.startedAt.getTime()).toBe(millis);
  });

  it('leaves a small result untouched', () => {
    const result = { items: [{ id: 1, title: 'Fix it' }], total: 1, note: 'ünïcödé ✓' };
    const row = stored(decodeEventMessage(message(event({ result })), ctx));
    expect(row.result).toEqual(result);
    expect(row.resultTruncated).toBeUndefined();
    expect(row.resultBytes).toBeUndefined();
  });

  it('leaves a result of exactly the cap untouched', () => {
    const result = 'x'.repeat(RESULT_CAP - 2); // JSON adds the two quotes
    const row = stored(decodeEventMessage(message(event({ result })), ctx));
    expect(row.result).toBe(result);
    expect(row.resultTruncated).toBeUndefined();
  });

  it('stores a 900 KB result cut to the configured cap (64 KB by default) and marked truncated', () => {
    expect(RESULT_CAP).toBe(64 * 1024);
    const result = { rows: Array.from({ length: 9000 }, (_, i) => ({ i, text: 'y'.repeat(80) })) };
    const json = JSON.stringify(result);
    expect(json.length).toBeGreaterThan(900 * 1000);
    const row = stored(decodeEventMessage(message(event({ result })), ctx));
    expect(row.resultTruncated).toBe(true);
    expect(row.resultBytes).toBe(Buffer.byteLength(json));
    expect(typeof row.result).toBe('string');
    expect(Buffer.byteLength(row.result as string)).toBe(RESULT_CAP);
    expect(json.startsWith(row.result as string)).toBe(true);
    // The rest of the event is stored as it came.
    expect(row.parameters).toEqual({ repo: 'acme/app', pr: 7 });
  });

  it('never cuts a character in half, so the stored head stays within the cap', () => {
    const result = 'é'.repeat(400_000); // two bytes each; the JSON's opening quote puts the cap mid-character
    const row = stored(decodeEventMessage(message(event({ result })), ctx));
    const head = row.result as string;
    expect(row.resultTruncated).toBe(true);
    expect(Buffer.byteLength(head)).toBeLessThanOrEqual(RESULT_CAP);
    expect(Buffer.byteLength(head)).toBeGreaterThan(RESULT_CAP - 4);
    expect(head).not.toContain('\uFFFD');
    expect(JSON.stringify(result).startsWith(head)).toBe(true);
  });

  it('applies a smaller configured cap', () => {
    const row = stored(decodeEventMessage(message(event({ result: 'z'.repeat(5000) })), { ...ctx, resultMaxBytes: 1000 }));
    expect(row.resultTruncated).toBe(true);
    expect(Buffer.byteLength(row.result as string)).toBe(1000);
  });
});
