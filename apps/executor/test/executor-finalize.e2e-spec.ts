import { ExecutionRepository } from '../src/runs/execution.repository';
import { waitFor } from '@toolpath/testing';
import { ExecutorHarness, TENANT, workflow } from './executor-harness';

jest.setTimeout(60_000);

/*
 * A run whose tool returned what the database cannot store (FerretDB on PostgreSQL refuses an
 * array directly in an array and a NUL character) used to stay COMPLETED in Redis with its final
 * row retried forever. After EXECUTOR_FINALIZE_MAX_ATTEMPTS failed writes the row is stored with
 * those values as their exact JSON text, and its error says so.
 */
describe('finalizing a run whose row the database refuses', () => {
  const h = new ExecutorHarness({ EXECUTOR_FINALIZE_MAX_ATTEMPTS: '2', EXECUTOR_LOCK_DURATION_MS: '1000', EXECUTOR_STALLED_INTERVAL_MS: '500' });
  const NUL = String.fromCharCode(0);
  const matrix = { rows: [[1, 2], [3, 4]], note: `a${NUL}b` };

  beforeAll(async () => {
    await h.setup();
    await h.startExecutor();
  });
  afterAll(async () => {
    await h.teardown();
  });

  it('stores the row after the configured tries, refused values as JSON text, and says so', async () => {
    h.serveTool('matrix.get', () => ({ ok: true, result: matrix }));
    const id = await h.startOk({ definition: workflow([{ id: 'm', tool: 'matrix.get', parameters: {} }, { id: 'n', tool: 'matrix.get', parameters: {}, dependsOn: ['m'] }]) });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    const repo = h.apps[0].get(ExecutionRepository);
    const t0 = Date.now();
    const row = await waitFor(() => repo.get(TENANT, id).then((d) => (d?.status === 'COMPLETED' ? d : undefined)), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the final Mongo row',
    });
    // Two failed tries, each retried when its lease (1 s) runs out, then the storable row.
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(row.steps.map((s) => s.result)).toEqual([JSON.stringify(matrix), JSON.stringify(matrix)]);
    expect(JSON.parse(row.steps[0].result as string)).toEqual(matrix);
    expect(row.error).toMatch(/could not be stored as it was after 2 tries .*steps\.m\.result, steps\.n\.result kept as JSON text/);
  });
});
