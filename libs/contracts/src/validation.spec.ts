import { validateToolEvent, formatPath, RejectReason, toolEventJsonSchema, tenantFromEventsSubject, checkEventsSubject } from './index';

const good = {
  specVersion: '1',
  kind: 'tool_call',
  eventId: 'e1',
  tenantId: 'acme',
  sessionId: 's1',
  tool: 'github.create_pr',
  parameters: { repo: 'x' },
  success: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  durationMs: 12,
};

describe('validateToolEvent', () => {
  it('accepts a v1 tool_call with an ISO timestamp or epoch ms', () => {
    expect(validateToolEvent(good).ok).toBe(true);
    expect(validateToolEvent({ ...good, startedAt: 1_700_000_000_000 }).ok).toBe(true);
  });

  it('names the offending field', () => {
    const r = validateToolEvent({ ...good, durationMs: -1, tenantId: 'a b' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(RejectReason.InvalidEvent);
      expect(r.issues.map((i) => i.field).sort()).toEqual(['durationMs', 'tenantId']);
    }
  });

  it('requires tool on tool_call but not on session_end', () => {
    const { tool: _tool, ...noTool } = good;
    const r = validateToolEvent(noTool);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0].field).toBe('tool');
    expect(validateToolEvent({ ...noTool, kind: 'session_end' }).ok).toBe(true);
  });

  it('reports an unknown specVersion as such', () => {
    const r = validateToolEvent({ ...good, specVersion: '2' });
    expect(r.ok || r.reason).toBe(RejectReason.UnsupportedSpecVersion);
  });

  it('rejects non-objects and unicode-long tool names', () => {
    expect(validateToolEvent([]).ok).toBe(false);
    expect(validateToolEvent(null).ok).toBe(false);
    expect(validateToolEvent({ ...good, tool: 'ツール' }).ok).toBe(true);
    expect(validateToolEvent({ ...good, tool: 'x'.repeat(201) }).ok).toBe(false);
  });
});

describe('names', () => {
  it('formats paths and parses subjects', () => {
    expect(formatPath(['steps', 0, 'id'])).toBe('steps[0].id');
    expect(tenantFromEventsSubject('toolpath', 'toolpath.events.acme')).toBe('acme');
    expect(tenantFromEventsSubject('toolpath', 'toolpath.events.a.b')).toBeUndefined();
    expect(checkEventsSubject('toolpath', 'toolpath.events.acme')).toEqual({ ok: true, tenantId: 'acme' });
    expect(checkEventsSubject('toolpath', 'toolpath.events.a.b')).toMatchObject({ ok: false, tenantId: 'a', message: expect.stringContaining('toolpath.events.a') });
    expect(checkEventsSubject('toolpath', 'other.events.acme')).toMatchObject({ ok: false, tenantId: null });
    expect(tenantFromEventsSubject('toolpath', 'other.events.a')).toBeUndefined();
  });

  it('exports a JSON Schema for other languages', () => {
    const schema = toolEventJsonSchema();
    expect(JSON.stringify(schema)).toContain('session_end');
  });
});
