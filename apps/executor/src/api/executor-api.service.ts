import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { z } from 'zod';
import {
  EXECUTOR_QUEUE_GROUP,
  ExecutionRefSchema,
  ListAllExecutionsRequestSchema,
  ListExecutionsRequestSchema,
  TERMINAL_EXECUTION_STATUSES,
  executorSubjects,
  type ExecutionView,
  type ListExecutionsReply,
} from '@toolpath/contracts';
import { APP_CONFIG, HealthRegistry, NatsClient, NatsRequestServer } from '@toolpath/platform';
import type { ExecutorConfig } from '../executor.config';
import { ExecutionRepository, toView } from '../runs/execution.repository';
import { AbortBroadcaster } from '../runs/abort-broadcaster';
import { toExecutionView } from '../runs/execution-view';
import { RunScheduler } from '../runs/run-scheduler.service';
import { RunStore } from '../runs/run-store';
import { SubWorkflowTool } from '../runs/sub-workflow.tool';
import { ToolInvoker } from '../tools/tool-invoker.service';
import { replyOf } from './run-refusals';
import { AllRunsList } from './all-runs-list';

/** Live runs a list request looks at (runs not yet written to Mongo are at most the in-flight ones). */
const LIVE_LIST_LIMIT = 1000;

/**
 * The executor's NATS request/reply API (start, get, list, cancel; queue group `executor`) and
 * the abort broadcast every executor listens to. Serving (validation, failing handlers, oversized
 * replies, `/health` check `api`) is the platform's NatsRequestServer; what a refused request
 * answers is run-refusals.ts'.
 */
@Injectable()
export class ExecutorApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: NatsRequestServer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly nats: NatsClient,
    private readonly scheduler: RunScheduler,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly aborts: AbortBroadcaster,
    health: HealthRegistry,
    tools: ToolInvoker,
  ) {
    tools.register(new SubWorkflowTool(scheduler, store, repo, () => this.nats.nc, config.TOOLPATH_SUBJECT_PREFIX));
    this.server = new NatsRequestServer({ service: 'executor', queue: EXECUTOR_QUEUE_GROUP, nats, health, confirmTimeoutMs: config.DEPENDENCY_TIMEOUT_MS });
  }

  async onApplicationBootstrap(): Promise<void> {
    const prefix = this.config.TOOLPATH_SUBJECT_PREFIX;
    const subjects = executorSubjects(prefix);
    await this.nats.ensureEventsStream();
    void this.repo.ensureIndexes();
    this.server.listen(this.aborts.subject, (body) => this.aborts.heard(body));
    this.server.serve(subjects.start, (body) => replyOf(() => this.scheduler.start(body)));
    this.server.serve(subjects.get, ExecutionRefSchema, (ref) => replyOf(() => this.scheduler.get(ref.tenantId, ref.executionId)));
    this.server.serve(subjects.cancel, ExecutionRefSchema, (ref) => replyOf(() => this.scheduler.cancel(ref.tenantId, ref.executionId)));
    this.server.serve(subjects.list, ListExecutionsRequestSchema, (query) => replyOf(() => this.list(query)));
    const allRuns = new AllRunsList(this.store, this.repo, LIVE_LIST_LIMIT);
    this.server.serve(subjects.listAll, ListAllExecutionsRequestSchema, (query) => replyOf(() => allRuns.page(query)));
    await this.server.start();
  }

  private async list(query: z.infer<typeof ListExecutionsRequestSchema>): Promise<ListExecutionsReply> {
    // Mongo has the runs written so far; a run younger than a snapshot interval, or ended but not
    // yet written, is only in Redis (the tenant's live list), and a running run's row may be up
    // to an interval old: live state wins.
    const [page, liveIds] = await Promise.all([this.repo.list(query), this.store.liveIds(query.tenantId, LIVE_LIST_LIMIT)]);
    const candidates = liveIds.filter((id) => query.cursor === undefined || id < query.cursor);
    const live = new Map<string, ExecutionView>();
    const runs = await Promise.all(candidates.map((id) => this.store.load(id)));
    for (const run of runs) {
      if (!run || run.meta.tenantId !== query.tenantId) continue;
      if (query.workflowId !== undefined && run.meta.workflowId !== query.workflowId) continue;
      if (query.status !== undefined && run.meta.status !== query.status) continue;
      live.set(run.meta.id, toExecutionView(run));
    }
    const items = await Promise.all(
      page.items.map(async (doc) => {
        const fresh = live.get(doc._id);
        if (fresh) {
          live.delete(doc._id);
          return fresh;
        }
        if (TERMINAL_EXECUTION_STATUSES.has(doc.status)) return toView(doc);
        const run = await this.store.load(doc._id);
        return run ? toExecutionView(run) : toView(doc);
      }),
    );
    // A live run newer than the page's last row belongs to this page; older ones to later pages.
    const lastRow = page.nextCursor;
    for (const view of live.values()) if (lastRow === null || view.id > lastRow) items.push(view);
    items.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const more = items.length > query.limit || page.nextCursor !== null;
    const kept = items.slice(0, query.limit);
    return { items: kept, nextCursor: more && kept.length > 0 ? kept[kept.length - 1].id : null };
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }
}
