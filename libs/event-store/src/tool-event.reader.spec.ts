import { MongoClient, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { testNames, testUrls } from '@toolpath/testing';
import { ToolEventReader, type StoredToolEvent } from './index';

const T0 = Date.UTC(2026, 0, 1);

function event(n: number, over: Partial<StoredToolEvent>): StoredToolEvent {
  return {
    _id: `acme:e${n}`,
    specVersion: '1',
    kind: 'tool_call',
    eventId: `e${n}`,
    tenantId: 'acme',
    sessionId: 's1',
    tool: 'orders.get',
    success: true,
    startedAt: new Date(T0 + n * 1000),
    durationMs: 5,
    receivedAt: new Date(T0 + n * 1000),
    ...over,
  } as StoredToolEvent;
}

describe('ToolEventReader: agents and replay order (real database)', () => {
  let client: MongoClient;
  let db: Db;
  let reader: ToolEventReader;

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('eventreads').mongoDb);
    reader = new ToolEventReader(db);
    await db.collection<StoredToolEvent>(Collections.toolEvents).insertMany([
      event(1, { agentId: 'bot', streamSeq: 3 }),
      event(2, { agentId: 'bot', tool: 'mail.send', success: false, streamSeq: 1 }),
      event(3, { agentId: 'bot', streamSeq: 2 }),
      event(4, { agentId: 'helper', tool: 'mail.send' }),
      event(5, { agentId: 'old', startedAt: new Date(T0 - 3600_000) }),
      event(6, { kind: 'session_end', agentId: 'bot', success: false }),
      event(7, { tenantId: 'globex', _id: 'globex:e7', agentId: 'bot' }),
    ]);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  it('counts the tool calls of each agent since a time, most active first, with its failures, top tools and newest event', async () => {
    // bot was last seen at its session_end (any kind counts), not at another tenant's later row.
    expect(await reader.agents('acme', new Date(T0), { maxTimeMS: 5000 })).toEqual([
      { agentId: 'bot', events: 3, failed: 1, successRate: 0.667, tools: [{ tool: 'orders.get', count: 2 }, { tool: 'mail.send', count: 1 }], lastSeenAt: new Date(T0 + 6000) },
      { agentId: 'helper', events: 1, failed: 0, successRate: 1, tools: [{ tool: 'mail.send', count: 1 }], lastSeenAt: new Date(T0 + 4000) },
    ]);
  });

  it('replays a tenant rows in stream order, rows without a sequence first by arrival', async () => {
    const ids: string[] = [];
    for await (const row of reader.inArrivalOrder('acme', 2)) ids.push(row.eventId);
    expect(ids).toEqual(['e4', 'e5', 'e6', 'e2', 'e3', 'e1']);
  });
});
