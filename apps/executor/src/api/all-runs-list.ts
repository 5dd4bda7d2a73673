import type { z } from 'zod';
import { decodeKeysetCursor, encodeKeysetCursor, type ExecutionView, type KeysetPosition, type ListAllExecutionsRequestSchema, type ListExecutionsReply } from '@toolpath/contracts';
import { ExecutionRepository, toView } from '../runs/execution.repository';
import { toExecutionView } from '../runs/execution-view';
import type { RunMeta } from '../runs/run-state';
import type { RunStore } from '../runs/run-store';

type Query = z.infer<typeof ListAllExecutionsRequestSchema>;

/**
 * The cursor value of the live runs: above every sequence number of a recorded run, so one keyset
 * order covers both parts of the list (live runs newest first, then recorded runs).
 */
export const LIVE_POSITION = Number.MAX_SAFE_INTEGER;

/**
 * Every run of a tenant (`GET /executions`): first the runs not yet retired from Redis (running,
 * or ended and not yet written), newest first, then the finished rows of `executions`, most
 * recently recorded first (RunListReader, which keeps a page cheap on FerretDB). A time filter is
 * on the run's end; a run still going counts as ending now.
 */
export class AllRunsList {
  constructor(
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly liveLimit: number,
  ) {}

  async page(q: Query): Promise<ListExecutionsReply> {
    const after = q.cursor !== undefined ? decodeKeysetCursor(q.cursor) : undefined;
    const items: ExecutionView[] = [];
    if (after === undefined || after.value >= LIVE_POSITION) {
      const live = await this.live(q, after);
      if (live.length > q.limit) {
        const kept = live.slice(0, q.limit);
        return { items: kept, nextCursor: encodeKeysetCursor(LIVE_POSITION, kept[kept.length - 1].id) };
      }
      items.push(...live);
      if (live.length === q.limit) return { items, nextCursor: encodeKeysetCursor(LIVE_POSITION, live[live.length - 1].id) };
    }
    const shown = new Set(items.map((v) => v.id));
    const page = await this.repo.listRecorded({
      tenantId: q.tenantId,
      ...(q.workflowId !== undefined ? { workflowId: q.workflowId } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.fromMs !== undefined ? { fromMs: q.fromMs } : {}),
      ...(q.toMs !== undefined ? { toMs: q.toMs } : {}),
      limit: q.limit - items.length,
      ...(after !== undefined && after.value < LIVE_POSITION ? { after } : {}),
    });
    // A run ended and written but not yet retired is in both parts: the live one was shown.
    for (const row of page.rows) if (!shown.has(row._id)) items.push(toView(row));
    return { items, nextCursor: page.next ? encodeKeysetCursor(page.next.value, page.next.id) : null };
  }

  /** The tenant's live runs that pass the filters, newest first, at most limit + 1. */
  private async live(q: Query, after: KeysetPosition | undefined): Promise<ExecutionView[]> {
    const ids = (await this.store.liveIds(q.tenantId, this.liveLimit)).filter((id) => after === undefined || after.value > LIVE_POSITION || id < after.id);
    const metas = await this.store.loadMetas(ids);
    const now = Date.now();
    const wanted = metas.filter((m): m is RunMeta => m !== null && matches(m, q, now)).slice(0, q.limit + 1);
    const runs = await Promise.all(wanted.map((m) => this.store.load(m.id)));
    return runs.flatMap((run) => (run ? [toExecutionView(run)] : [])).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }
}

function matches(m: RunMeta, q: Query, now: number): boolean {
  if (m.tenantId !== q.tenantId) return false;
  if (q.workflowId !== undefined && m.workflowId !== q.workflowId) return false;
  if (q.status !== undefined && m.status !== q.status) return false;
  const ended = m.endedAt ? Date.parse(m.endedAt) : now;
  if (q.fromMs !== undefined && ended < q.fromMs) return false;
  if (q.toMs !== undefined && ended >= q.toMs) return false;
  return true;
}
