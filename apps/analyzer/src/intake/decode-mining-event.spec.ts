import { decodeStreamEvent, MAX_COUNTED_DURATION_MS, miningEventFromRow } from './decode-mining-event';

const msg = (body: unknown, subject = 'tp.events.acme', streamSeq = 7) => ({ data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), subject, streamSeq });
const event = (over: Record<string, unknown> = {}) => ({
  specVersion: '1',
  kind: 'tool_call',
  eventId: 'e1',
  tenantId: 'acme',
  sessionId: 's1',
  tool: 'gh.pr',
  success: true,
  startedAt: '2026-11-21T10:00:00Z',
  durationMs: 5,
  ...over,
});

describe('decodeStreamEvent', () => {
  it('maps a valid event with its stream sequence and time in epoch ms', () => {
    const d = decodeStreamEvent(msg(event({ seq: 3, intent: 'x', userId: 'ann' })), 'tp', 1000);
    expect(d).toEqual({
      ok: true,
      event: expect.objectContaining({ streamSeq: 7, tenantId: 'acme', sessionId: 's1', tool: 'gh.pr', seq: 3, intent: 'x', userId: 'ann', startedAt: Date.UTC(2026, 10, 21, 10) }),
    });
  });

  it('counts a duration past what a Date spans as that span, so sums and means stay finite', () => {
    const d = decodeStreamEvent(msg(event({ durationMs: 1.5e308 })), 'tp', 1000);
    expect(d).toMatchObject({ ok: true, event: { durationMs: MAX_COUNTED_DURATION_MS } });
    const ok = d as { event: { durationMs: number } };
    expect(Number.isFinite(ok.event.durationMs * 1e6)).toBe(true);
  });

  it.each([
    ['malformed JSON', '{"a":', 'malformed_json'],
    ['a missing field', event({ sessionId: undefined }), 'invalid_event'],
    ['another tenant than the subject', event({ tenantId: 'globex' }), 'tenant_mismatch'],
  ])('refuses %s', (_label, body, reason) => {
    expect(decodeStreamEvent(msg(body), 'tp', 1000)).toMatchObject({ ok: false, reason, tenantId: 'acme' });
  });

  it('skips an event on a subject that is not exactly <prefix>.events.<tenant>, counted for the tenant of its first token', () => {
    expect(decodeStreamEvent(msg(event(), 'tp.events.acme.x'), 'tp', 1000)).toEqual({ ok: false, reason: 'invalid_subject', tenantId: 'acme' });
    expect(decodeStreamEvent(msg(event(), 'tp.events'), 'tp', 1000)).toEqual({ ok: false, reason: 'invalid_subject', tenantId: null });
  });

  it('carries the arrival (stream timestamp) of the message, and a stored row carries its receivedAt', () => {
    const d = decodeStreamEvent({ ...msg(event()), arrivedAt: 1_765_000_000_123 }, 'tp', 1000);
    expect(d.ok && d.event.arrivedAt).toBe(1_765_000_000_123);
    const row = { ...event(), startedAt: new Date(0), streamSeq: 3, receivedAt: new Date(1_765_000_000_456) } as never;
    expect(miningEventFromRow(row, 1000)).toMatchObject({ streamSeq: 3, startedAt: 0, arrivedAt: 1_765_000_000_456 });
  });

  it('leaves out a result larger than the cap, and keeps a small one', () => {
    const big = decodeStreamEvent(msg(event({ result: { text: 'y'.repeat(5000) } })), 'tp', 1000);
    expect(big.ok && big.event.result).toBeUndefined();
    const small = decodeStreamEvent(msg(event({ result: { id: 1 } })), 'tp', 1000);
    expect(small.ok && small.event.result).toEqual({ id: 1 });
  });
});

describe('values nested 10,000 deep', () => {
  const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  const raw = (field: string) => `${JSON.stringify(event({ eventId: `deep-${field}` })).slice(0, -1)},"${field}":${deep}}`;

  it.each(['parameters', 'result'])('skips a stream message whose %s nests 10,000 deep, as invalid, without throwing', (field) => {
    expect(decodeStreamEvent(msg(raw(field)), 'tp', 1000)).toEqual({ ok: false, reason: 'invalid_event', tenantId: 'acme' });
  });

  it('leaves out such a result of a row stored before the contract refused it', () => {
    const row = { ...event(), startedAt: new Date(0), streamSeq: 3, result: JSON.parse(deep) } as never;
    expect(miningEventFromRow(row, 1000).result).toBeUndefined();
  });
});
