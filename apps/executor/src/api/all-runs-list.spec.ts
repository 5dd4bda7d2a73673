import { decodeKeysetCursor, encodeKeysetCursor } from '@toolpath/contracts';
import type { RunListPage, RunListQuery } from '@toolpath/execution-store';
import type { ExecutionDocument, ExecutionRepository } from '../runs/execution.repository';
import type { RunMeta, RunSnapshot } from '../runs/run-state';
import type { RunStore } from '../runs/run-store';
import { AllRunsList, LIVE_POSITION } from './all-runs-list';

const meta = (id: string, over: Partial<RunMeta> = {}): RunMeta => ({
  id,
  tenantId: 'acme',
  name: 'w',
  status: 'RUNNING',
  input: {},
  createdAt: '2026-12-06T08:00:00.000Z',
  startedAt: '2026-12-06T08:00:00.000Z',
  endedAt: null,
  depth: 0,
  deadline: 0,
  ...over,
});

const row = (id: string, listSeq: number): ExecutionDocument =>
  ({ _id: id, tenantId: 'acme', status: 'COMPLETED', input: {}, steps: [], startedAt: null, endedAt: null, durationMs: 1, parallelSpeedup: null, name: 'w', definition: { name: 'w', steps: [] }, depth: 0, updatedAt: new Date(), listSeq }) as never;

/** Live runs (newest first) and a recorded list answering pages of `recorded` (newest first). */
function world(live: RunMeta[], recorded: ExecutionDocument[]) {
  const asked: RunListQuery[] = [];
  const store = {
    liveIds: async () => live.map((m) => m.id),
    loadMetas: async (ids: readonly string[]) => ids.map((id) => live.find((m) => m.id === id) ?? null),
    load: async (id: string): Promise<RunSnapshot | null> => {
      const m = live.find((x) => x.id === id);
      return m ? { meta: m, definition: { name: 'w', steps: [] } as never, steps: {} } : null;
    },
  } as unknown as RunStore;
  const repo = {
    listRecorded: async (q: RunListQuery): Promise<RunListPage> => {
      asked.push(q);
      const rest = recorded.filter((r) => !q.after || r.listSeq! < q.after.value);
      const rows = rest.slice(0, q.limit);
      return { rows, next: rest.length > q.limit ? { value: rows[rows.length - 1].listSeq!, id: rows[rows.length - 1]._id } : null };
    },
  } as unknown as ExecutionRepository;
  return { list: new AllRunsList(store, repo, 1000), asked };
}

describe('AllRunsList', () => {
  it('lists the live runs first, then the recorded ones, and a run in both once', async () => {
    const { list } = world([meta('ex_3'), meta('ex_2', { status: 'COMPLETED', endedAt: '2026-12-06T08:00:01.000Z' })], [row('ex_2', 9), row('ex_1', 8)]);
    const page = await list.page({ tenantId: 'acme', limit: 10 });
    expect(page.items.map((v) => v.id)).toEqual(['ex_3', 'ex_2', 'ex_1']);
    expect(page.nextCursor).toBeNull();
  });

  it('pages through more live runs than a page holds, then into the recorded ones', async () => {
    const { list, asked } = world([meta('ex_5'), meta('ex_4'), meta('ex_3')], [row('ex_2', 2), row('ex_1', 1)]);
    const first = await list.page({ tenantId: 'acme', limit: 2 });
    expect(first.items.map((v) => v.id)).toEqual(['ex_5', 'ex_4']);
    expect(decodeKeysetCursor(first.nextCursor!)).toEqual({ value: LIVE_POSITION, id: 'ex_4' });
    expect(asked).toEqual([]);
    const second = await list.page({ tenantId: 'acme', limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((v) => v.id)).toEqual(['ex_3', 'ex_2']);
    const third = await list.page({ tenantId: 'acme', limit: 2, cursor: second.nextCursor! });
    expect(third.items.map((v) => v.id)).toEqual(['ex_1']);
    expect(third.nextCursor).toBeNull();
    expect(asked[1].after).toEqual({ value: 2, id: 'ex_2' });
  });

  it('applies the filters to the live runs and passes them on to the recorded list', async () => {
    const now = Date.now();
    const { list, asked } = world(
      [meta('ex_4', { workflowId: 'wf_a' }), meta('ex_3', { workflowId: 'wf_b' }), meta('ex_2', { workflowId: 'wf_a', status: 'FAILED', endedAt: new Date(now - 3600_000).toISOString() }), meta('ex_1', { tenantId: 'globex', workflowId: 'wf_a' })],
      [],
    );
    const page = await list.page({ tenantId: 'acme', workflowId: 'wf_a', fromMs: now - 60_000, limit: 10 });
    expect(page.items.map((v) => v.id)).toEqual(['ex_4']);
    expect(asked[0]).toMatchObject({ tenantId: 'acme', workflowId: 'wf_a', fromMs: now - 60_000, limit: 9 });
    expect((await list.page({ tenantId: 'acme', status: 'FAILED', limit: 10 })).items.map((v) => v.id)).toEqual(['ex_2']);
  });

  it('skips the live runs for a cursor in the recorded part', async () => {
    const { list } = world([meta('ex_9')], [row('ex_2', 2), row('ex_1', 1)]);
    const page = await list.page({ tenantId: 'acme', limit: 5, cursor: encodeKeysetCursor(2, 'ex_2') });
    expect(page.items.map((v) => v.id)).toEqual(['ex_1']);
  });
});
