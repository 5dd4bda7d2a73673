import { Test, type TestingModule } from '@nestjs/testing';
import { ApiError } from '@toolpath/platform';
import type { WorkflowDefinition } from '@toolpath/workflow';
import { ExecutorClient } from '../executions/executor.client';
import { EXPECTED_VERSION_FIELD } from './workflows.schemas';
import { VersionConflictError, WorkflowRepository } from './workflow.repository';
import { WorkflowsService } from './workflows.service';

/**
 * Versioning as the service answers it, with the catalog in memory (Nest builds the service as
 * the app does; `overrideProvider` swaps its repository and the executor's client). The real
 * repository and the HTTP routes are covered against infrastructure in apps/gateway/test.
 */

type Repository = Pick<WorkflowRepository, 'create' | 'get' | 'update' | 'softDelete' | 'listVersions' | 'getVersion'>;
type Row = NonNullable<Awaited<ReturnType<WorkflowRepository['get']>>>;
type VersionRow = NonNullable<Awaited<ReturnType<WorkflowRepository['getVersion']>>>;

/** The catalog in memory: a head row per workflow, every version kept (after a delete too), updates only from the version read. */
class InMemoryWorkflows implements Repository {
  readonly heads = new Map<string, Row>();
  readonly versions = new Map<string, VersionRow>();
  updates = 0;
  private n = 0;

  async create(tenantId: string, definition: WorkflowDefinition): Promise<Row> {
    const id = `wf_${++this.n}`;
    const now = new Date();
    const row: Row = { _id: `${tenantId}:${id}`, tenantId, id, version: 1, definition: { ...definition, id }, tools: definition.steps.map((s) => s.tool), createdAt: now, updatedAt: now };
    this.heads.set(row._id, row);
    this.keep(row);
    return row;
  }

  async get(tenantId: string, id: string): Promise<Row | undefined> {
    const row = this.heads.get(`${tenantId}:${id}`);
    return row && !row.deletedAt ? row : undefined;
  }

  async update(tenantId: string, id: string, definition: WorkflowDefinition, expectedVersion?: number): Promise<Row | undefined> {
    this.updates++;
    const current = await this.get(tenantId, id);
    if (!current) return undefined;
    if (expectedVersion !== undefined && current.version !== expectedVersion) throw new VersionConflictError(expectedVersion, current.version);
    const row: Row = { ...current, version: current.version + 1, definition: { ...definition, id }, updatedAt: new Date() };
    this.heads.set(row._id, row);
    this.keep(row);
    return row;
  }

  async softDelete(tenantId: string, id: string): Promise<boolean> {
    const row = await this.get(tenantId, id);
    if (row) row.deletedAt = new Date();
    return row !== undefined;
  }

  async listVersions(tenantId: string, id: string, limit: number, beforeVersion?: number) {
    const head = await this.get(tenantId, id);
    if (!head) return { items: [], nextCursor: null };
    const items: VersionRow[] = [];
    for (let v = Math.min(head.version, (beforeVersion ?? Infinity) - 1); v >= 1 && items.length < limit; v--) items.push(this.versions.get(`${tenantId}:${id}:${v}`)!);
    const lowest = items[items.length - 1]?.version ?? 1;
    return { items, nextCursor: lowest > 1 ? String(lowest) : null };
  }

  async getVersion(tenantId: string, id: string, version: number): Promise<VersionRow | undefined> {
    if (!(await this.get(tenantId, id))) return undefined;
    return this.versions.get(`${tenantId}:${id}:${version}`);
  }

  private keep(row: Row): void {
    const _id = `${row.tenantId}:${row.id}:${row.version}`;
    this.versions.set(_id, { _id, tenantId: row.tenantId, workflowId: row.id, version: row.version, definition: row.definition, createdAt: row.updatedAt });
  }
}

const definition = (description: string) => ({
  name: 'Review a pull request',
  description,
  source: 'user',
  steps: [
    { id: 'fetch', tool: 'github.get_pr', parameters: { repo: '{{ input.repo }}' } },
    { id: 'post', tool: 'slack.post', dependsOn: ['fetch'], parameters: { text: '{{ steps.fetch.result.title }}' } },
  ],
});

/** The ApiError a call fails with, as status, message and fields. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; message: string; fields: string[] }> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(err)}`);
  const details = (err.getResponse() as { details?: Array<{ field?: string }> }).details ?? [];
  return { status: err.getStatus(), message: err.message, fields: details.map((d) => d.field ?? '') };
}

describe('WorkflowsService versioning with the catalog in memory', () => {
  let catalog: InMemoryWorkflows;
  let app: TestingModule;
  let workflows: WorkflowsService;

  beforeEach(async () => {
    catalog = new InMemoryWorkflows();
    app = await Test.createTestingModule({ providers: [WorkflowRepository, ExecutorClient, WorkflowsService] })
      .overrideProvider(WorkflowRepository)
      .useValue(catalog)
      .overrideProvider(ExecutorClient)
      .useValue({})
      .compile();
    workflows = app.get(WorkflowsService);
  });
  afterEach(() => app.close());

  it('stores each update as the next version and lists them newest first, each with its own definition', async () => {
    const { id } = await workflows.create('acme', definition('first'));
    await workflows.update('acme', id, definition('second'));
    const v3 = await workflows.update('acme', id, { ...definition('third'), [EXPECTED_VERSION_FIELD]: 2 });
    expect(v3).toMatchObject({ id, version: 3, description: 'third' });
    // The precondition is not part of the definition.
    expect(v3).not.toHaveProperty(EXPECTED_VERSION_FIELD);
    expect(catalog.versions.get(`acme:${id}:3`)?.definition).not.toHaveProperty(EXPECTED_VERSION_FIELD);

    const page = await workflows.versions('acme', id, 2);
    expect(page.items.map((v) => [v.version, v.description])).toEqual([
      [3, 'third'],
      [2, 'second'],
    ]);
    expect(page.items[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const rest = await workflows.versions('acme', id, 2, page.nextCursor!);
    expect(rest).toEqual({ items: [expect.objectContaining({ version: 1, description: 'first', id })], nextCursor: null });
    expect(await workflows.version('acme', id, 2)).toMatchObject({ id, version: 2, description: 'second' });
  });

  it('answers 409 on expectedVersion when the workflow has moved on, naming the field; nothing is stored', async () => {
    const { id } = await workflows.create('acme', definition('first'));
    await workflows.update('acme', id, definition('second'));
    const err = await refusal(workflows.update('acme', id, { ...definition('stale'), [EXPECTED_VERSION_FIELD]: 1 }));
    expect(err).toMatchObject({ status: 409, fields: [EXPECTED_VERSION_FIELD] });
    expect(err.message).toContain(id);
    expect((await workflows.get('acme', id)).version).toBe(2);
  });

  it.each([0, -1, 1.5, null])('refuses expectedVersion %p with 400 before the catalog is asked', async (expected) => {
    const { id } = await workflows.create('acme', definition('first'));
    const err = await refusal(workflows.update('acme', id, { ...definition('second'), [EXPECTED_VERSION_FIELD]: expected }));
    expect(err).toMatchObject({ status: 400, fields: [EXPECTED_VERSION_FIELD] });
    expect(catalog.updates).toBe(0);
  });

  it('refuses an invalid definition with 400 listing its errors, before the catalog is asked', async () => {
    const { id } = await workflows.create('acme', definition('first'));
    const err = await refusal(workflows.update('acme', id, { name: 'x', source: 'user', steps: [{ id: 'a', tool: 'b', dependsOn: ['missing'] }] }));
    expect(err.status).toBe(400);
    expect(err.fields.length).toBeGreaterThan(0);
    expect(catalog.updates).toBe(0);
  });

  it("answers 404 for another tenant's workflow, a deleted one (whose versions stay stored), and a version it never had", async () => {
    const { id } = await workflows.create('acme', definition('first'));
    expect((await refusal(workflows.update('globex', id, definition('theirs')))).status).toBe(404);
    expect((await refusal(workflows.version('acme', id, 9))).fields).toEqual(['version']);
    await workflows.delete('acme', id);
    expect((await refusal(workflows.get('acme', id))).status).toBe(404);
    expect((await refusal(workflows.versions('acme', id, 10))).status).toBe(404);
    expect((await refusal(workflows.delete('acme', id))).status).toBe(404);
    expect(catalog.versions.has(`acme:${id}:1`)).toBe(true);
  });

  it('copies the current version into a new workflow at version 1, named as a copy', async () => {
    const { id } = await workflows.create('acme', definition('first'));
    await workflows.update('acme', id, definition('second'));
    const copy = await workflows.copy('acme', id);
    expect(copy).toMatchObject({ version: 1, name: 'Review a pull request (copy)', description: 'second' });
    expect(copy.id).not.toBe(id);
  });
});
