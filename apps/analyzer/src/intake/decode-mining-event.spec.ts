import { decodeStreamEvent } from './decode-mining-event';

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

  it.each([
    ['malformed JSON', '{"a":', 'malformed_json'],
    ['a missing field', event({ sessionId: undefined }), 'invalid_event'],
    ['another tenant than the subject', event({ tenantId: 'globex' }), 'tenant_mismatch'],
  ])('refuses %s', (_label, body, reason) => {
    expect(decodeStreamEvent(msg(body), 'tp', 1000)).toMatchObject({ ok: false, reason, tenantId: 'acme' });
  });

  it('leaves out a result larger than the cap, and keeps a small one', () => {
    const big = decodeStreamEvent(msg(event({ result: { text: 'y'.repeat(5000) } })), 'tp', 1000);
    expect(big.ok && big.event.result).toBeUndefined();
    const small = decodeStreamEvent(msg(event({ result: { id: 1 } })), 'tp', 1000);
    expect(small.ok && small.event.result).toEqual({ id: 1 });
  });
});
