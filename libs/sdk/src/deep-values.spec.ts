import { buildEvent, encodeEvent } from './encode-event';
import { InvalidEventError } from './errors';

/** Values nested 10,000 deep: refused naming the field, never sent with the value swapped for a marker. */
describe('encodeEvent with values nested 10,000 deep', () => {
  const deep = (): unknown => JSON.parse(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);

  it.each(['parameters', 'result'])('refuses %s with InvalidEventError naming the field', (field) => {
    const event = buildEvent({ kind: 'tool_call', sessionId: 's', tool: 't', success: true, startedAt: 1, durationMs: 0, [field]: deep() } as never, { tenantId: 'acme' });
    let error: unknown;
    try {
      encodeEvent(event);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).issues).toEqual([{ field, message: 'nested deeper than 64 levels of objects and arrays' }]);
  });

  it('still encodes a large value of ordinary depth', () => {
    const wide = { rows: Array.from({ length: 5000 }, (_, i) => ({ id: i, tags: [{ k: 'a' }] })) };
    const event = buildEvent({ kind: 'tool_call', sessionId: 's', tool: 't', success: true, startedAt: 1, durationMs: 0, result: wide }, { tenantId: 'acme' });
    expect(JSON.parse(encodeEvent(event).data.toString()).result.rows).toHaveLength(5000);
  });
});
