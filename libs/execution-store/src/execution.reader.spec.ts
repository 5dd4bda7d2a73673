import { MongoClient, type Db } from 'mongodb';
import { EXECUTIONS_COLLECTION } from '@toolpath/contracts';
import { testNames, testUrls } from '@toolpath/testing';
import { ExecutionReader, finishedRuns, runSuccessRate } from './index';

describe('runSuccessRate', () => {
  it('is the share of finished runs that completed, null before any finished', () => {
    expect(runSuccessRate({ completed: 3, failed: 1 })).toBe(0.75);
    expect(runSuccessRate({ completed: 0, failed: 2 })).toBe(0);
    expect(runSuccessRate({ completed: 0, failed: 0 })).toBeNull();
    expect(finishedRuns({ completed: 3, failed: 1 })).toBe(4);
  });
});

describe('ExecutionReader (real database)', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('executionstore').mongoDb);
    const row = (n: number, tenantId: string, workflowId: string | undefined, status: string) => ({ _id: `run_${n}` as never, tenantId, ...(workflowId ? { workflowId } : {}), status });
    await db.collection(EXECUTIONS_COLLECTION).insertMany([
      row(1, 'acme', 'wf_a', 'COMPLETED'),
      row(2, 'acme', 'wf_a', 'COMPLETED'),
      row(3, 'acme', 'wf_a', 'FAILED'),
      row(4, 'acme', 'wf_a', 'CANCELLED'),
      row(5, 'acme', 'wf_a', 'RUNNING'),
      row(6, 'acme', 'wf_b', 'FAILED'),
      row(7, 'acme', undefined, 'COMPLETED'),
      row(8, 'globex', 'wf_a', 'COMPLETED'),
    ]);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  it('counts finished runs per workflow of one tenant; cancelled, running and unnamed runs do not count', async () => {
    const byWorkflow = await new ExecutionReader(db).finishedRunsByWorkflow('acme');
    expect(Object.fromEntries(byWorkflow)).toEqual({ wf_a: { completed: 2, failed: 1 }, wf_b: { completed: 0, failed: 1 } });
  });
});
