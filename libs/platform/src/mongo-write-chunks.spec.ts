import { MongoClient } from 'mongodb';
import { testNames, testUrls } from '@toolpath/testing';
import { MAX_WRITES_PER_COMMAND, inWriteChunks } from './mongo-write-chunks';

describe('inWriteChunks', () => {
  it('hands every operation over once, in order, a command at a time, with its offset', async () => {
    const seen: Array<{ chunk: number[]; offset: number }> = [];
    await inWriteChunks(
      Array.from({ length: 47 }, (_, i) => i),
      async (chunk, offset) => {
        seen.push({ chunk, offset });
      },
    );
    expect(seen.map((s) => s.chunk.length)).toEqual([MAX_WRITES_PER_COMMAND, MAX_WRITES_PER_COMMAND, 47 - 2 * MAX_WRITES_PER_COMMAND]);
    expect(seen.map((s) => s.offset)).toEqual([0, MAX_WRITES_PER_COMMAND, 2 * MAX_WRITES_PER_COMMAND]);
    expect(seen.flatMap((s) => s.chunk)).toEqual(Array.from({ length: 47 }, (_, i) => i));
    expect(MAX_WRITES_PER_COMMAND).toBeLessThan(50);
  });

  it('does nothing for no operations', async () => {
    const write = jest.fn();
    await inWriteChunks([], write);
    expect(write).not.toHaveBeenCalled();
  });

  it('writes 150 upserting updates on the real database, which one command of that many would stop', async () => {
    const names = testNames('chunks');
    const client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5_000 });
    try {
      const rows = client.db(names.mongoDb).collection<{ _id: string; n: number; status?: string }>('rows');
      await rows.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: `r${i}`, n: i })));
      const ops = Array.from({ length: 150 }, (_, i) => ({ updateOne: { filter: { _id: `r${i}`, status: { $nin: ['done'] } }, update: { $set: { n: i * 2 } }, upsert: true } }));
      // Bounded: a hung database fails this test instead of stalling the run.
      await Promise.race([
        inWriteChunks(ops, async (chunk) => {
          await rows.bulkWrite(chunk, { ordered: false, maxTimeMS: 10_000 });
        }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the database stopped answering')), 20_000).unref()),
      ]);
      expect(await rows.countDocuments({})).toBe(150);
      expect(await rows.findOne({ _id: 'r149' })).toMatchObject({ n: 298 });
    } finally {
      await client.db(names.mongoDb).dropDatabase().catch(() => undefined);
      await client.close();
    }
  }, 30_000);
});
