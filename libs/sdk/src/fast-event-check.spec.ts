import { validateToolEvent } from '@toolpath/contracts';
import { FAST_CHECK_ENABLED, isCertainlyValidEvent } from './fast-event-check';

const base: Record<string, unknown> = {
  specVersion: '1',
  kind: 'tool_call',
  eventId: '01a1fd7c-9ef6-70dd-86ff-e785c7e3cc1b',
  tenantId: 'acme',
  sessionId: 's1',
  tool: 'github.create_pr',
  parameters: { repo: 'acme/x' },
  result: { ok: true },
  success: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  durationMs: 12.5,
  seq: 3,
};

class Params {
  repo = 'x';
}

/** An object nested `depth` levels deep (`{ a: { a: ... } }`), or arrays with `asArray`. */
function nested(depth: number, asArray = false): unknown {
  let v: unknown = asArray ? [] : {};
  for (let i = 1; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

/** Values to try in each field: valid, invalid and borderline ones. */
const probes: unknown[] = [
  nested(64), nested(65), nested(10_000), nested(64, true), nested(65, true), { wide: Array.from({ length: 300 }, () => ({ x: {} })) },
  undefined, null, true, false, 0, -0, 1, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 8.64e15, 8.64e15 + 1, 1_700_000_000_000,
  '', 'a', ' ', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(200), 'x'.repeat(201), 'x'.repeat(256), 'x'.repeat(257),
  'x'.repeat(10_000), 'x'.repeat(10_001), 'a b', 'a.b', 'ツール', '😀'.repeat(64), '😀'.repeat(65),
  '2026-11-21T10:00:00.000Z', '2026-11-21T10:00:00Z', '2026-11-21T10:00:00.000+05:00', '2024-02-29T00:00:00.000Z',
  '2026-02-29T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-11-21T24:00:00.000Z',
  '2026-11-21T10:60:00.000Z', '2026-11-21 10:00:00.000Z', '0000-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z',
  'tool_call', 'session_end', 'other', '1', '2',
  {}, { a: 1 }, [], [1], new Date(0), new Map(), new Params(), Object.create(null), () => 1, 5n,
  // What the databases cannot keep exactly (storable.ts), and what they can.
  'a\u0000b', { a: 'x\u0000' }, { ['k\u0000']: 1 }, { a: [[1]] }, [[1]], [{ a: [1] }], { $set: 1 }, { a$: 1 }, { 'a.b': 1 }, { '': 1 },
  JSON.parse('{"__proto__":{"a":1}}') as unknown, { a: JSON.parse('{"__proto__":1}') as unknown },
];

describe('isCertainlyValidEvent', () => {
  it('is enabled for the current contract and vouches for ordinary events', () => {
    expect(FAST_CHECK_ENABLED).toBe(true);
    expect(isCertainlyValidEvent(base)).toBe(true);
    expect(isCertainlyValidEvent({ ...base, startedAt: 1_700_000_000_000, parameters: undefined, seq: undefined })).toBe(true);
    const { tool: _tool, ...end } = base;
    expect(isCertainlyValidEvent({ ...end, kind: 'session_end', intent: 'do it' })).toBe(true);
  });

  it('never accepts an event the schema rejects', () => {
    const fields = [...Object.keys(base), 'userId', 'agentId', 'source', 'runId', 'stepId', 'error', 'intent'];
    const kinds = ['tool_call', 'session_end'];
    let vouched = 0;
    for (const kind of kinds) {
      for (const field of fields) {
        for (const value of probes) {
          const event = { ...base, kind, [field]: value };
          if (!isCertainlyValidEvent(event)) continue;
          vouched++;
          const verdict = validateToolEvent(event);
          if (!verdict.ok) throw new Error(`fast check accepted ${field}=${String(value)} (${kind}); schema says ${JSON.stringify(verdict.issues)}`);
        }
      }
    }
    expect(vouched).toBeGreaterThan(100);
  });
});
