import { MongoClient, type Db } from 'mongodb';
import type { ClosedSession } from '@toolpath/mining';
import { testNames, testUrls } from '@toolpath/testing';
import { BlobStore } from './blob-store';
import { decodeJournalEntry, encodeJournalEntry } from './tenant-state.repository';

const session = (id: string): ClosedSession => ({
  tenantId: 'acme',
  sessionId: id,
  steps: [{ tool: 'gh.pr', parameters: { n: 1, text: 'ü'.repeat(50) }, result: { id: 7 }, success: true, durationMs: 5, startedAt: 1 }],
  startedAt: 1,
  endedAt: 6,
  ended: true,
  success: true,
  lastStreamSeq: 3,
});

describe('journal entries', () => {
  it('round-trip compressed, and are smaller than their JSON', () => {
    const sessions = Array.from({ length: 200 }, (_, i) => session(`s${i}`));
    const buf = encodeJournalEntry(sessions);
    expect(buf.subarray(0, 4).toString()).toBe('TPJ1');
    expect(buf.length).toBeLessThan(Buffer.byteLength(JSON.stringify(sessions)) / 3);
    expect(decodeJournalEntry(buf)).toEqual(sessions);
  });

  it('still read entries stored as plain JSON', () => {
    const sessions = [session('old')];
    expect(decodeJournalEntry(Buffer.from(JSON.stringify(sessions)))).toEqual(sessions);
  });
});

describe('BlobStore (real database)', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('blobs').mongoDb);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  it('writes a blob in parts, reads it back, and deletes all its parts', async () => {
    const store = new BlobStore(db, 64 * 1024);
    const data = Buffer.alloc(150 * 1024, 7);
    const ref = await store.write('t:s:1:aa', data);
    expect(ref).toEqual({ key: 't:s:1:aa', parts: 3, bytes: data.length });
    expect((await store.read(ref)).equals(data)).toBe(true);
    await store.delete([ref, null]);
    await expect(store.read(ref)).rejects.toThrow(/missing part 0/);
  });

  it('takes a repeated write of the same key (a retry after a lost reply) as done', async () => {
    const store = new BlobStore(db, 64 * 1024);
    const data = Buffer.from('entry');
    const ref = await store.write('t:j:2:bb', data);
    await expect(store.write('t:j:2:bb', data)).resolves.toEqual(ref);
    expect((await store.read(ref)).toString()).toBe('entry');
  });
});
