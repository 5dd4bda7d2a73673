import { MAX_EVENT_BYTES, type ToolEventInput } from '@toolpath/contracts';
import { buildEvent, encodeEvent } from './encode-event';
import { EventTooLargeError, InvalidEventError } from './errors';
import { newEventId } from './event-id';
import { CIRCULAR_MARKER, toJsonSafe } from './safe-json';

const input: ToolEventInput = {
  kind: 'tool_call',
  sessionId: 's1',
  tool: 'github.create_pr',
  parameters: { repo: 'acme/x' },
  success: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  durationMs: 12,
};

describe('buildEvent', () => {
  it('fills specVersion, a UUIDv7 eventId, the tenant and the default source', () => {
    const event = buildEvent(input, { tenantId: 'acme', source: 'svc' });
    expect(event).toMatchObject({ ...input, specVersion: '1', tenantId: 'acme', source: 'svc' });
    expect(event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps a given eventId and source', () => {
    const event = buildEvent({ ...input, eventId: 'mine', source: 'other' }, { tenantId: 'acme', source: 'svc' });
    expect(event).toMatchObject({ eventId: 'mine', source: 'other' });
  });

  it("refuses an input naming another tenant", () => {
    expect(() => buildEvent({ ...input, tenantId: 'evil' }, { tenantId: 'acme' })).toThrow(InvalidEventError);
    expect(buildEvent({ ...input, tenantId: 'acme' }, { tenantId: 'acme' }).tenantId).toBe('acme');
  });
});

describe('newEventId', () => {
  it('is strictly increasing within the process, even in one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('encodeEvent', () => {
  it('gives the subject, bytes and Nats-Msg-Id of an event', () => {
    const event = buildEvent({ ...input, eventId: 'e1' }, { tenantId: 'acme' });
    const encoded = encodeEvent(event, 'pfx');
    expect(encoded.subject).toBe('pfx.events.acme');
    expect(encoded.msgId).toBe('acme:e1');
    expect(JSON.parse(Buffer.from(encoded.data).toString('utf8'))).toEqual(event);
    expect(encodeEvent(event).subject).toBe('toolpath.events.acme');
  });

  it('throws InvalidEventError naming each offending field', () => {
    const event = buildEvent({ ...input, durationMs: -1, tool: '' }, { tenantId: 'acme' });
    let caught: unknown;
    try {
      encodeEvent(event, 'pfx');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidEventError);
    expect((caught as InvalidEventError).issues.map((i) => i.field).sort()).toEqual(['durationMs', 'tool']);
    expect((caught as InvalidEventError).eventId).toBe(event.eventId);
  });

  it('throws EventTooLargeError with the size and the limit above 1 MB', () => {
    const big = buildEvent({ ...input, result: 'x'.repeat(MAX_EVENT_BYTES) }, { tenantId: 'acme' });
    expect(() => encodeEvent(big, 'pfx')).toThrow(EventTooLargeError);
    try {
      encodeEvent(big, 'pfx');
    } catch (err) {
      expect((err as EventTooLargeError).limit).toBe(MAX_EVENT_BYTES);
      expect((err as EventTooLargeError).size).toBeGreaterThan(MAX_EVENT_BYTES);
    }
    // Multi-byte characters: short in UTF-16, over the limit in UTF-8.
    const wide = buildEvent({ ...input, result: 'é'.repeat(MAX_EVENT_BYTES / 2 + 10) }, { tenantId: 'acme' });
    expect(() => encodeEvent(wide, 'pfx')).toThrow(EventTooLargeError);
    const justUnder = buildEvent({ ...input, result: 'x'.repeat(MAX_EVENT_BYTES - 1000) }, { tenantId: 'acme' });
    expect(encodeEvent(justUnder, 'pfx').data.length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });

  it('survives BigInt, circular references and throwing getters', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const shared = { a: 1 };
    const hostile = {
      get boom(): string {
        throw new Error('no');
      },
    };
    const event = buildEvent(
      { ...input, parameters: { big: 12345678901234567890n, circular, twice: [shared, shared] }, result: hostile },
      { tenantId: 'acme' },
    );
    const decoded = JSON.parse(Buffer.from(encodeEvent(event, 'pfx').data).toString('utf8'));
    expect(decoded.parameters).toEqual({
      big: '12345678901234567890',
      circular: { name: 'loop', self: CIRCULAR_MARKER },
      twice: [{ a: 1 }, { a: 1 }],
    });
    expect(decoded.result).toBe('[Unserializable: no]');
    expect(decoded.tool).toBe('github.create_pr');
  });
});

describe('toJsonSafe', () => {
  it('matches JSON.stringify on plain values', () => {
    const value = { a: [1, 'two', null, { b: true }], d: new Date(0), u: undefined };
    expect(toJsonSafe(value)).toBe(JSON.stringify(value));
    expect(toJsonSafe(undefined)).toBe('null');
    expect(toJsonSafe(5n)).toBe('"5"');
  });
});

describe('limits on the wire', () => {
  it('counts the Nats-Msg-Id header against the 1 MB limit', () => {
    const { encodeEvent: enc, buildEvent: build, EventTooLargeError: TooLarge } = jest.requireActual('./index');
    const base = build({ kind: 'tool_call', sessionId: 's', tool: 't', success: true, startedAt: 1, durationMs: 1, result: '' }, { tenantId: 'acme' });
    const overhead = Buffer.byteLength(JSON.stringify(base));
    // Payload exactly at the limit: fine as a body, too large once the header is added.
    const atLimit = { ...base, result: 'x'.repeat(1024 * 1024 - overhead) };
    expect(() => enc(atLimit, 'p')).toThrow(TooLarge);
    const withRoom = { ...base, result: 'x'.repeat(1024 * 1024 - overhead - 200) };
    expect(enc(withRoom, 'p').data.length).toBeLessThan(1024 * 1024);
  });

  it('refuses an unknown specVersion instead of overwriting it', () => {
    const { buildEvent: build, InvalidEventError: Invalid } = jest.requireActual('./index');
    expect(() => build({ specVersion: '2', kind: 'tool_call' }, { tenantId: 'acme' })).toThrow(Invalid);
  });
});
