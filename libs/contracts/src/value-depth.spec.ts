import { MAX_VALUE_DEPTH, nestingWithin, toolEventJsonSchema } from './events';
import { validateToolEvent } from './validation';

/**
 * `{ a: { a: ... } }` with `depth` objects, or arrays and objects in turn (an array directly in an
 * array is not storable, see storable.ts).
 */
function nested(depth: number, asArray = false): unknown {
  let v: unknown = asArray ? [] : {};
  for (let i = 1; i < depth; i++) v = asArray && i % 2 === 0 ? [v] : { a: v };
  return v;
}

const event = {
  specVersion: '1',
  kind: 'tool_call',
  eventId: 'e1',
  tenantId: 'acme',
  sessionId: 's1',
  tool: 'orders.get',
  success: true,
  startedAt: 1_700_000_000_000,
  durationMs: 1,
};

describe('nesting depth of parameters and result', () => {
  it('measures depth without recursion, objects and arrays alike', () => {
    expect(nestingWithin('text', 1)).toBe(true);
    expect(nestingWithin({}, 1)).toBe(true);
    expect(nestingWithin({ a: {} }, 1)).toBe(false);
    expect(nestingWithin(nested(100_000, true), 64)).toBe(false);
    expect(nestingWithin(nested(64), 64)).toBe(true);
    expect(nestingWithin({ a: 1, b: [1, 2, { c: 'x' }] }, 3)).toBe(true);
    expect(nestingWithin({ a: 1, b: [1, 2, { c: 'x' }] }, 2)).toBe(false);
  });

  it('counts a reference back to an ancestor, or a getter that throws, as where its branch ends (what serialising writes)', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    expect(nestingWithin({ circular, list: [circular, { again: circular }] }, 4)).toBe(true);
    expect(nestingWithin({ circular }, 1)).toBe(false);
    const hostile = {
      get boom(): unknown {
        throw new Error('no');
      },
      deep: nested(70),
    };
    expect(nestingWithin({ ok: 1, hostile }, 64)).toBe(false);
    expect(nestingWithin({ ok: 1, hostile: { get boom(): unknown { throw new Error('no'); } } }, 64)).toBe(true);
    const shared = { a: { b: {} } };
    expect(nestingWithin({ x: [shared, shared] }, 5)).toBe(true);
  });

  it.each(['parameters', 'result'])('refuses %s nested 10,000 deep, naming the field', (field) => {
    const verdict = validateToolEvent({ ...event, [field]: nested(10_000) });
    expect(verdict).toMatchObject({ ok: false, reason: 'invalid_event' });
    if (verdict.ok) return;
    expect(verdict.issues).toEqual([{ field, message: `nested deeper than ${MAX_VALUE_DEPTH} levels of objects and arrays` }]);
  });

  it('accepts the deepest allowed value and refuses one level more', () => {
    expect(validateToolEvent({ ...event, parameters: nested(MAX_VALUE_DEPTH), result: nested(MAX_VALUE_DEPTH, true) }).ok).toBe(true);
    expect(validateToolEvent({ ...event, parameters: nested(MAX_VALUE_DEPTH + 1) }).ok).toBe(false);
    expect(validateToolEvent({ ...event, result: nested(MAX_VALUE_DEPTH + 1, true) }).ok).toBe(false);
    expect(validateToolEvent({ ...event, result: 'a JSON text is a string, whatever it holds' }).ok).toBe(true);
  });

  it('leaves the JSON Schema of the contract intact', () => {
    const schema = JSON.stringify(toolEventJsonSchema());
    expect(schema).toContain('"parameters"');
  });
});
