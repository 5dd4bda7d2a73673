import { MongoClient, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { testNames, testUrls } from '@toolpath/testing';
import { toolsOfWorkflow, type WorkflowDefinition } from '@toolpath/workflow';
import { WorkflowReader, patternTag, promotedPatternOf, workflowRowId, type WorkflowRow } from './index';

const definition = (name: string, over: Partial<WorkflowDefinition> = {}): WorkflowDefinition => ({
  name,
  description: `${name} things`,
  source: 'user',
  steps: [
    { id: 'a', tool: 'orders.get', parameters: {} },
    { id: 'b', tool: 'payments.refund', parameters: {}, compensate: { tool: 'payments.charge', parameters: {} } },
  ],
  ...over,
});

describe('WorkflowReader (real database)', () => {
  let client: MongoClient;
  let db: Db;
  let reader: WorkflowReader;

  /** A row as the gateway writes it, created `minutesAgo`. */
  const store = async (tenantId: string, id: string, d: WorkflowDefinition, minutesAgo: number, extra: Partial<WorkflowRow> = {}) => {
    const at = new Date(Date.UTC(2026, 0, 1) - minutesAgo * 60_000);
    const row: WorkflowRow = { _id: workflowRowId(tenantId, id), tenantId, id, version: 1, definition: { ...d, id }, tools: toolsOfWorkflow(d), createdAt: at, updatedAt: at, ...extra };
    await db.collection<WorkflowRow>(Collections.workflows).insertOne(row);
  };

  beforeAll(async () => {
    client = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
    db = client.db(testNames('workflowstore').mongoDb);
    reader = new WorkflowReader(db);
    await store('acme', 'wf_old', definition('Old', { category: 'billing', tags: ['money'] }), 30);
    await store('acme', 'wf_new', definition('New', { source: 'learned', steps: [{ id: 'x', tool: 'mail.send', parameters: {} }] }), 10, { origin: { generationId: 'gen_1' } });
    await store('acme', 'wf_gone', definition('Gone'), 5, { deletedAt: new Date() });
    await store('globex', 'wf_other', definition('Other'), 1);
  });

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  it('lists a tenant live workflows newest first as cards with their definitions, and says when it cut', async () => {
    const all = await reader.withDefinitions('acme', 10);
    expect(all.truncated).toBe(false);
    expect(all.items.map((w) => w.id)).toEqual(['wf_new', 'wf_old']);
    expect(all.items[1]).toMatchObject({ name: 'Old', description: 'Old things', category: 'billing', tags: ['money'], source: 'user', tools: ['orders.get', 'payments.refund', 'payments.charge'] });
    expect(all.items[1].definition.steps).toHaveLength(2);
    const one = await reader.withDefinitions('acme', 1);
    expect(one).toMatchObject({ truncated: true, items: [{ id: 'wf_new' }] });
  });

  it('reads summaries without steps, filtered exactly (a compensation tool counts as a tool of the workflow)', async () => {
    const byCompensation = await reader.summaries('acme', { tool: 'payments.charge' }, 10);
    expect(byCompensation.items.map((w) => w.id)).toEqual(['wf_old']);
    expect(byCompensation.items[0]).toEqual({
      id: 'wf_old',
      name: 'Old',
      description: 'Old things',
      category: 'billing',
      tags: ['money'],
      source: 'user',
      tools: ['orders.get', 'payments.refund', 'payments.charge'],
      version: 1,
      updatedAt: new Date(Date.UTC(2026, 0, 1) - 30 * 60_000).toISOString(),
    });
    const learned = await reader.summaries('acme', { source: 'learned' }, 10);
    expect(learned.items).toEqual([expect.objectContaining({ id: 'wf_new', origin: { generationId: 'gen_1' } })]);
    expect((await reader.summaries('acme', { category: 'none' }, 10)).items).toEqual([]);
  });
});

describe('pattern tags', () => {
  it('tie a promoted workflow back to its pattern both ways', () => {
    expect(patternTag('p_1')).toBe('pattern-p_1');
    expect(promotedPatternOf(['billing', patternTag('p_1')])).toBe('p_1');
    expect(promotedPatternOf(['billing'])).toBeUndefined();
  });
});
