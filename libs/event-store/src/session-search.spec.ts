import { MongoClient, type Collection, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { testNames, testUrls } from '@toolpath/testing';
import { eventTimeline, searchSessions, type SessionSearch, type StoredToolEvent } from './index';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

let n = 0;
function row(sessionId: string, minute: number, over: Partial<StoredToolEvent> = {}): StoredToolEvent {
  n++;
  const tenantId = over.tenantId ?? 'acme';
  return {
    _id: `${tenantId}:e${n}`,
    specVersion: '1',
    kind: 'tool_call',
    eventId: `e${n}`,
    tenantId,
    sessionId,
    tool: 'orders.get',
    success: true,
    startedAt: new Date(T0 + minute * MIN),
    durationMs: 5,
    receivedAt: new Date(T0 + minute * MIN),
    streamSeq: n,
    ...over,
  } as StoredToolEvent;
}
const end = (sessionId: string, minute: number, success: boolean, intent?: string, over: Partial<StoredToolEvent> = {}) =>
  row(sessionId, minute, { kind: 'session_end', tool: undefined, success, ...(intent !== undefined ? { intent } : {}), ...over });

/** Every acme session, most recently active first. */
const ALL = ['deploy', 'no-intent', 'old-intent', 'tie-b', 'tie-a', 'open', 'triage', 'quiet'];
/** Those whose intent contains "deploy", in the same order. */
const DEPLOYS = ['deploy', 'old-intent', 'tie-a', 'open'];

describe('searchSessions and eventTimeline (real database)', () => {
  let client: MongoClient;
  let db: Db;
  let events: Collection<StoredToolEvent>;

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('sessionsearch').mongoDb);
    events = db.collection<StoredToolEvent>(Collections.toolEvents);
    await events.insertMany([
      // deploy: spans minutes 1..50, so its place is minute 50 whatever its old rows say.
      row('deploy', 1, { agentId: 'planner', intent: 'Deploy the Billing service' }),
      row('deploy', 2, { agentId: 'coder', success: false }),
      end('deploy', 50, false, 'Deploy the Billing service'),
      row('triage', 10, { agentId: 'planner' }),
      end('triage', 11, true, 'triage a (flaky) test.*'),
      row('open', 20, { intent: 'deploy docs' }),
      // Two sessions whose newest events share a millisecond: sessionId breaks the tie.
      row('tie-a', 30),
      end('tie-a', 30, true, 'ÉCOLE deploy'),
      row('tie-b', 30),
      row('quiet', 5),
      // Intent only on an old call (below a short scan), and an ended session with no intent at all.
      row('old-intent', 2, { intent: 'legacy deploy' }),
      row('old-intent', 40),
      row('no-intent', 41),
      end('no-intent', 42, true),
      // Another tenant's session with a matching intent and the same ids.
      end('deploy', 60, true, 'deploy', { tenantId: 'globex' }),
      row('intruder', 61, { tenantId: 'globex', agentId: 'planner' }),
    ]);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  /** Every page of a search, following nextCursor: the ids of each page. */
  async function pages(q: SessionSearch, limit: number, scanLimit?: number, undecidedLookups?: number): Promise<string[][]> {
    const out: string[][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await searchSessions(events, 'acme', q, limit, cursor, { scanLimit, undecidedLookups });
      out.push(page.items.map((s) => s.sessionId));
      if (page.nextCursor === null) return out;
      cursor = page.nextCursor;
    }
    throw new Error('more than 50 pages: the cursor does not move on');
  }

  it('lists sessions by their newest event, ties by sessionId descending, paged without gaps or repeats', async () => {
    expect(await pages({}, 10)).toEqual([ALL]);
    expect(await pages({}, 2)).toEqual([['deploy', 'no-intent'], ['old-intent', 'tie-b'], ['tie-a', 'open'], ['triage', 'quiet']]);
    expect((await pages({}, 1)).flat()).toEqual(ALL);
    const first = await searchSessions(events, 'acme', {}, 1);
    expect(first.items[0]).toMatchObject({ sessionId: 'deploy', intent: 'Deploy the Billing service', ended: true, success: false, events: 3, toolCalls: 2, failedCalls: 1, agents: ['coder', 'planner'] });
    expect(first.items[0].lastStartedAt).toEqual(new Date(T0 + 50 * MIN));
  });

  it('matches the intent as plain text, ignoring case, never as a pattern', async () => {
    expect((await pages({ intent: 'DEPLOY' }, 10)).flat()).toEqual(DEPLOYS);
    expect((await pages({ intent: 'école' }, 10)).flat()).toEqual(['tie-a']);
    expect((await pages({ intent: '(flaky) test.*' }, 10)).flat()).toEqual(['triage']);
    expect((await pages({ intent: 'flaky.test' }, 10)).flat()).toEqual([]);
    expect((await pages({ intent: '.*' }, 10)).flat()).toEqual(['triage']);
    expect((await pages({ intent: 'deploy' }, 1)).filter((p) => p.length > 0)).toEqual(DEPLOYS.map((id) => [id]));
  });

  it('filters by agent and by outcome; an open session has no outcome', async () => {
    expect((await pages({ agentId: 'planner' }, 10)).flat()).toEqual(['deploy', 'triage']);
    expect((await pages({ success: true }, 10)).flat()).toEqual(['no-intent', 'tie-a', 'triage']);
    expect((await pages({ success: false }, 10)).flat()).toEqual(['deploy']);
    expect((await pages({ success: true, intent: 'deploy', agentId: 'nobody' }, 10)).flat()).toEqual([]);
  });

  it('stops reading at its bound with a cursor that resumes there, the same sessions in the end', async () => {
    const bounded = await pages({ intent: 'deploy' }, 10, 2);
    expect(bounded.length).toBeGreaterThan(1);
    expect(bounded.flat()).toEqual(DEPLOYS);
    expect((await pages({}, 2, 1)).flat()).toEqual(ALL);
  });

  it('reads a session whose intent it has not seen, a bounded number per page', async () => {
    // With a scan of 2 rows, old-intent's intent (on its first call) and no-intent's (none) are unknown until read.
    const capped = await pages({ intent: 'legacy' }, 10, 2, 1);
    expect(capped.flat()).toEqual(['old-intent']);
    expect(capped.length).toBeGreaterThan(2);
    expect((await pages({ intent: 'legacy' }, 10, undefined, 1)).flat()).toEqual(['old-intent']);
  });

  it('never shows another tenant', async () => {
    const theirs = await searchSessions(events, 'globex', {}, 10);
    expect(theirs.items.map((s) => [s.sessionId, s.events])).toEqual([
      ['intruder', 1],
      ['deploy', 1],
    ]);
  });

  it('counts calls, failures and sessions per hour of an aligned range, empty hours included', async () => {
    const t = await eventTimeline(events, 'acme', 'hour', { from: T0 - 3600_000, to: T0 + 2 * 3600_000 });
    expect(t.buckets.map((b) => [b.start.toISOString(), b.calls, b.failures, b.sessions])).toEqual([
      ['2025-12-31T23:00:00.000Z', 0, 0, 0],
      // 10 tool calls (one failed) of 8 sessions; the session_ends count as activity, not calls.
      ['2026-01-01T00:00:00.000Z', 10, 1, 8],
      ['2026-01-01T01:00:00.000Z', 0, 0, 0],
    ]);
    expect(t.countedFrom).toBeNull();
    const partial = await eventTimeline(events, 'acme', 'day', { from: T0, to: T0 + 86_400_000 }, { scanLimit: 3 });
    expect(partial.buckets[0].calls + partial.buckets[0].failures).toBeLessThanOrEqual(3);
    expect(partial.countedFrom).toEqual(new Date(T0 + 41 * MIN));
    const globex = await eventTimeline(events, 'globex', 'day', { from: T0, to: T0 + 86_400_000 });
    expect(globex.buckets[0]).toMatchObject({ calls: 1, failures: 0, sessions: 2 });
  });
});
