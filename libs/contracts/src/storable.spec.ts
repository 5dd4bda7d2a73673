import { findUnstorable, validateToolEvent } from './index';

const event = (extra: Record<string, unknown>) => ({
  specVersion: '1',
  kind: 'tool_call',
  eventId: 'e1',
  tenantId: 'acme',
  sessionId: 's1',
  tool: 't',
  success: true,
  startedAt: 0,
  durationMs: 1,
  ...extra,
});

describe('payloads the databases keep exactly', () => {
  it.each([
    ['a NUL in a string', { a: ['x', 'y\u0000'] }, 'a[1]', /NUL/],
    ['a NUL in a key (named with the NUL escaped)', { a: { ['k\u0000']: 1 } }, 'a.k\\u0000', /NUL/],
    ['an array in an array', { a: [{ b: [1, [2]] }] }, 'a[0].b[1]', /array/],
    ['a $ key', { a: { $gt: 1 } }, 'a.$gt', /"\$"/],
    ['a dotted key', { 'a.b': 1 }, 'a.b', /"\."/],
    ['a __proto__ key', JSON.parse('{"x":{"__proto__":{"y":1}}}') as unknown, 'x.__proto__', /__proto__/],
  ])('refuses %s in parameters and result, naming the field', (_, value, field, message) => {
    const parameters = validateToolEvent(event({ parameters: value }));
    expect(parameters).toMatchObject({ ok: false, reason: 'invalid_event', issues: [{ field: `parameters.${field}`, message: expect.stringMatching(message) }] });
    const result = validateToolEvent(event({ result: value }));
    expect(result).toMatchObject({ ok: false, issues: [{ field: `result.${field}` }] });
  });

  it('keeps what every server stores: arrays of objects holding arrays, "$" inside keys, empty keys', () => {
    const value = { a: [{ b: [1, 2] }, 'x'], a$: 1, '': 2, deep: { 'x-y': [{ z: [] }] } };
    expect(findUnstorable(value)).toBeUndefined();
    expect(validateToolEvent(event({ parameters: value, result: [1, { a: [2] }] })).ok).toBe(true);
    expect(findUnstorable('plain')).toBeUndefined();
    expect(findUnstorable('a\u0000')).toMatchObject({ path: [] });
  });

  it('walks any depth without overflowing', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    expect(findUnstorable(deep)?.path).toHaveLength(20_000);
  });
});

describe('strings of the event', () => {
  it.each(['tool', 'sessionId', 'error', 'intent', 'userId'])('refuses a NUL in %s, naming it', (field) => {
    expect(validateToolEvent(event({ [field]: 'a\u0000b' }))).toMatchObject({ ok: false, issues: [{ field, message: expect.stringMatching(/NUL/) }] });
  });
});
