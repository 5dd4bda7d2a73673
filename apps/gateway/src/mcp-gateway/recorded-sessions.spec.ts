import { RecordedSessions, type RecordedSession, type SessionEndReason } from './recorded-sessions';

function sessions(opts: { idleMs?: number; maxSessions?: number } = {}) {
  let now = 1_000_000;
  const ended: Array<{ id: string; reason: SessionEndReason; calls: number }> = [];
  const s = new RecordedSessions({
    idleMs: opts.idleMs ?? 1000,
    maxSessions: opts.maxSessions ?? 100,
    now: () => now,
    onEnd: (x: RecordedSession, reason) => ended.push({ id: x.sessionId, reason, calls: x.calls }),
  });
  return { s, ended, tick: (ms: number) => (now += ms) };
}

const mcp = (id: string, conversationId?: string) => ({ tenantId: 't', mcpSessionId: id, ...(conversationId ? { conversationId } : {}) });

describe('RecordedSessions', () => {
  it('numbers calls per session and ends a session when its MCP session closes', () => {
    const { s, ended } = sessions();
    const a = s.session(mcp('m1'));
    expect([s.callStarted(a), s.callStarted(a)]).toEqual([0, 1]);
    s.callFinished(a, 'x', undefined);
    s.callFinished(a, 'y', 'boom');
    expect(a.unresolved).toEqual(new Map([['y', 'boom']]));
    s.mcpSessionClosed(mcp('m1'));
    expect(ended).toEqual([{ id: 'm1', reason: 'mcp_session_closed', calls: 2 }]);
    expect(s.size).toBe(0);
  });

  it('keeps a conversation shared by two MCP sessions open until the last closes', () => {
    const { s, ended } = sessions();
    expect(s.session(mcp('m1', 'conv'))).toBe(s.session(mcp('m2', 'conv')));
    s.mcpSessionClosed(mcp('m1'));
    expect(ended).toEqual([]);
    s.mcpSessionClosed(mcp('m2'));
    expect(ended.map((e) => e.id)).toEqual(['conv']);
  });

  it('waits for running calls before ending, and a success of the same tool resolves a failure', () => {
    const { s, ended } = sessions();
    const a = s.session(mcp('m1'));
    s.callStarted(a);
    s.callFinished(a, 'x', 'first try failed');
    s.callStarted(a);
    s.mcpSessionClosed(mcp('m1'));
    expect(ended).toEqual([]);
    s.callFinished(a, 'x', undefined);
    expect(a.unresolved.size).toBe(0);
    expect(ended).toEqual([{ id: 'm1', reason: 'mcp_session_closed', calls: 2 }]);
  });

  it('ends idle sessions, and reopens an ended id as <id>~2 with a new epoch', () => {
    const { s, ended, tick } = sessions({ idleMs: 1000 });
    const a = s.session(mcp('m1'));
    tick(600);
    s.session(mcp('m2'));
    tick(500);
    s.sweep();
    expect(ended.map((e) => [e.id, e.reason])).toEqual([['m1', 'idle']]);
    const again = s.session(mcp('m1'));
    expect(again.sessionId).toBe('m1~2');
    expect(again.epoch).not.toBe(a.epoch);
    expect(s.size).toBe(2);
  });

  it('holds at most maxSessions, ending the least recently active', () => {
    const { s, ended } = sessions({ maxSessions: 3 });
    for (const id of ['a', 'b', 'c']) s.session(mcp(id));
    s.session(mcp('a'));
    s.session(mcp('d'));
    expect(ended.map((e) => [e.id, e.reason])).toEqual([['b', 'evicted']]);
    for (let i = 0; i < 1000; i++) s.session(mcp(`x${i}`));
    expect(s.size).toBe(3);
  });
});
