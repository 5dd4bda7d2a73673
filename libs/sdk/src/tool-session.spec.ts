import type { NatsConnection } from 'nats';
import { MAX_EVENT_BYTES } from '@toolpath/contracts';
import { connectTestNats, createTestEventsStream, deleteTestStream, testNames, type TestNames } from '@toolpath/testing';
import { EventPublisher } from './event-publisher';
import { EventTooLargeError } from './errors';

type Stored = Record<string, unknown>;

async function storedEvents(nc: NatsConnection, names: TestNames): Promise<Stored[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(names.stream);
  const out: Stored[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    out.push((await jsm.streams.getMessage(names.stream, { seq })).json<Stored>());
  }
  return out.sort((a, b) => Number(a.seq) - Number(b.seq));
}

describe('ToolSession against NATS', () => {
  let nc: NatsConnection;
  let names: TestNames;
  let publisher: EventPublisher;
  let errors: Error[];

  beforeEach(async () => {
    nc = await connectTestNats();
    names = testNames('sdksession');
    await createTestEventsStream(nc, names);
    errors = [];
    publisher = new EventPublisher(nc, {
      tenantId: 'acme',
      subjectPrefix: names.subjectPrefix,
      source: 'svc',
      onError: (err) => errors.push(err),
    });
  });

  afterEach(async () => {
    await publisher.close({ timeoutMs: 2000 });
    await deleteTestStream(nc, names);
    await nc.close();
  });

  it('tracks successes and failures with increasing seq, and ends as failed', async () => {
    const session = publisher.session({ intent: 'open a PR', userId: 'u1', agentId: 'a1' });
    const boom = new Error('permission denied');

    await expect(session.track('git.clone', { repo: 'acme/x' }, async () => ({ dir: '/tmp/x' }))).resolves.toEqual({ dir: '/tmp/x' });
    await expect(session.track('fs.write', { path: 'a' }, () => 'sync result')).resolves.toBe('sync result');
    const failure = session.track('github.create_pr', { title: 't' }, async () => {
      await new Promise((r) => setTimeout(r, 20));
      throw boom;
    });
    await expect(failure).rejects.toBe(boom);
    expect(session.end()).toEqual(expect.any(String));
    expect(session.end()).toBeUndefined();
    await publisher.flush(5000);

    const events = await storedEvents(nc, names);
    expect(events.map((e) => [e.kind, e.tool, e.seq, e.success])).toEqual([
      ['tool_call', 'git.clone', 0, true],
      ['tool_call', 'fs.write', 1, true],
      ['tool_call', 'github.create_pr', 2, false],
      ['session_end', undefined, 3, false],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ sessionId: session.sessionId, intent: 'open a PR', userId: 'u1', agentId: 'a1', source: 'svc', tenantId: 'acme' });
    }
    expect(events[0]).toMatchObject({ parameters: { repo: 'acme/x' }, result: { dir: '/tmp/x' } });
    expect(events[2]).toMatchObject({ error: 'permission denied' });
    expect(events[2].durationMs as number).toBeGreaterThanOrEqual(15);
    expect(typeof events[2].startedAt).toBe('string');
    // The session_end is stamped with the session's end, after every call's end, never its start.
    const endOf = (e: Record<string, unknown>) => Date.parse(e.startedAt as string) + (e.durationMs as number);
    expect(events[3].durationMs).toBe(0);
    expect(Date.parse(events[3].startedAt as string)).toBeGreaterThanOrEqual(Math.max(...events.slice(0, 3).map(endOf)));
    expect(errors).toEqual([]);
  });

  it('ends as successful when every step succeeded, with the result set on the session', async () => {
    const session = publisher.session({ sessionId: 'fixed-session' });
    await session.track('search', { q: 'x' }, () => [1, 2]);
    session.setResult('two hits');
    session.end();
    await publisher.flush(5000);
    const end = (await storedEvents(nc, names)).find((e) => e.kind === 'session_end');
    expect(end).toMatchObject({ sessionId: 'fixed-session', success: true, result: 'two hits', seq: 1 });
  });

  it('lets end() and setResult() override the outcome', async () => {
    const a = publisher.session();
    await a.track('x', undefined, () => 1);
    a.setResult('judged bad', false);
    a.end();
    const b = publisher.session();
    await b.track('y', undefined, () => {
      throw new Error('handled');
    }).catch(() => undefined);
    b.end({ success: true, result: 'recovered' });
    await publisher.flush(5000);
    const ends = (await storedEvents(nc, names)).filter((e) => e.kind === 'session_end');
    expect(ends.find((e) => e.sessionId === a.sessionId)).toMatchObject({ success: false, result: 'judged bad' });
    expect(ends.find((e) => e.sessionId === b.sessionId)).toMatchObject({ success: true, result: 'recovered' });
  });

  it('never lets a too-large result break the caller: the step is published with a marker', async () => {
    const session = publisher.session();
    const huge = 'x'.repeat(MAX_EVENT_BYTES + 10);
    await expect(session.track('fs.read', { path: '/big' }, () => huge)).resolves.toBe(huge);
    session.end();
    await publisher.flush(5000);

    const [step] = await storedEvents(nc, names);
    expect(step).toMatchObject({ tool: 'fs.read', success: true, parameters: { path: '/big' } });
    expect(step.result).toMatch(/^\[truncated: the event was \d+ bytes, over the 1048576-byte limit\]$/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(EventTooLargeError);
    expect(publisher.stats().tooLarge).toBe(1);
  });

  it('never lets an invalid event or a closed publisher break the caller', async () => {
    const session = publisher.session();
    await expect(session.track('', undefined, () => 'ok')).resolves.toBe('ok');
    await publisher.close();
    await expect(session.track('after.close', undefined, () => 'still ok')).resolves.toBe('still ok');
    expect(() => session.end()).not.toThrow();
    expect(errors.map((e) => e.name)).toEqual(['InvalidEventError', 'PublisherClosedError', 'PublisherClosedError']);
  });

  it('runSession ends the session for you, failed with the message when the callback throws', async () => {
    const value = await publisher.runSession({ intent: 'ok run' }, async (s) => s.track('a', {}, () => 42));
    expect(value).toBe(42);
    const boom = new TypeError('bad input');
    let failedSessionId = '';
    await expect(
      publisher.runSession({ intent: 'bad run' }, async (s) => {
        failedSessionId = s.sessionId;
        await s.track('b', {}, () => 'fine');
        throw boom;
      }),
    ).rejects.toBe(boom);
    await publisher.flush(5000);
    const ends = (await storedEvents(nc, names)).filter((e) => e.kind === 'session_end');
    expect(ends).toHaveLength(2);
    expect(ends.find((e) => e.intent === 'ok run')).toMatchObject({ success: true });
    expect(ends.find((e) => e.intent === 'bad run')).toMatchObject({ success: false, error: 'bad input', sessionId: failedSessionId });
  });
});
