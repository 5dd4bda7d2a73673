import { MongoClient, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { testNames, testUrls } from '@toolpath/testing';
import { PatternReader } from './index';

describe('PatternReader (real database)', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('patternstore').mongoDb);
    await db.collection(Collections.patterns).insertMany([
      { _id: 'acme:p1' as never, tenantId: 'acme', id: 'p1', successRate: 0.9, promotedWorkflowId: 'wf_1' },
      { _id: 'acme:p2' as never, tenantId: 'acme', id: 'p2', successRate: 0.5, promotedWorkflowId: null },
      { _id: 'acme:p3' as never, tenantId: 'acme', id: 'p3', successRate: 'high', promotedWorkflowId: 'wf_3' },
      { _id: 'globex:p1' as never, tenantId: 'globex', id: 'p1', successRate: 0.1, promotedWorkflowId: 'wf_9' },
    ]);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  it('gives the learned rate of each promoted workflow of one tenant, skipping rows it cannot read', async () => {
    expect(Object.fromEntries(await new PatternReader(db).promotedSuccessRates('acme'))).toEqual({ wf_1: 0.9 });
  });
});
