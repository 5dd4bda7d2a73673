import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { stepIdempotencyKey } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import { renderParameters } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import { RunEvents } from '../events/run-events.service';
import { ToolInvoker } from '../tools/tool-invoker.service';
import { ToolError } from '../tools/tool-error';
import { AbortBroadcaster } from './abort-broadcaster';
import { toExecutionDocument } from './execution-view';
import { ExecutionWriter } from './execution-writer';
import type { ExecutionDocument } from './execution.repository';
import { RunPlans } from './run-plans';
import { RunScheduler } from './run-scheduler.service';
import { compensationsDue, isTerminalRun, templateContext } from './round-logic';
import { isLiveStep, type CompensationRecord, type RunSnapshot } from './run-state';
import { RunStore } from './run-store';
import { storableRow } from './storable-row';

const CLAIM_BATCH = 200;
const DEADLINE_BATCH = 100;
/** Runs whose failed finalizations this executor remembers (the count itself is in Redis). */
const MAX_REMEMBERED_FAILURES = 10_000;

/**
 * What happens once a run has ended, and run deadlines. A run that ends is entered in the
 * outbox atomically with its terminal status (RunStore.endRun); every executor's finalizer
 * claims due entries (leased, so a finalizer that dies lets another take over), settles steps
 * still live, runs the compensation of a failed run, publishes the session_end event, writes the
 * final Mongo row (batched with other runs' by the ExecutionWriter), and only then lets the live
 * state expire. The executor that ended a run looks at the outbox at once; all of them sweep it,
 * and the deadline list, every EXECUTOR_SWEEP_INTERVAL_MS.
 */
@Injectable()
export class RunFinalizer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('RunFinalizer');
  private readonly inHand = new Set<string>();
  /** Failed finalizations so far, and the last error, of runs this executor tried. */
  private readonly failures = new Map<string, { count: number; error: string }>();
  private pass: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private sweepTimer?: NodeJS.Timeout;
  private leaseTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly store: RunStore,
    private readonly scheduler: RunScheduler,
    private readonly writer: ExecutionWriter,
    private readonly plans: RunPlans,
    private readonly tools: ToolInvoker,
    private readonly events: RunEvents,
    private readonly aborts: AbortBroadcaster,
  ) {}

  private get leaseMs(): number {
    return this.config.EXECUTOR_LOCK_DURATION_MS;
  }

  onApplicationBootstrap(): void {
    this.scheduler.onRunEnded(() => this.kick());
    this.sweepTimer = setInterval(() => this.sweep(), this.config.EXECUTOR_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    this.leaseTimer = setInterval(() => {
      this.store.renewClaims([...this.inHand], this.leaseMs).catch((err: Error) => this.log.warn(`renewing leases failed: ${err.message}`));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
  }

  /** Looks at the outbox now (or right after the pass under way). */
  kick(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = (async () => {
      // Runs ending in the same turn of the event loop are claimed together.
      await new Promise((r) => setImmediate(r));
      do {
        this.again = false;
        while (!this.stopped) {
          const ids = await this.store.claimEnded(CLAIM_BATCH, this.leaseMs);
          if (ids.length === 0) break;
          await Promise.all(ids.map((id) => this.finalizeClaimed(id)));
        }
      } while (this.again && !this.stopped);
    })()
      .catch((err: Error) => this.log.warn(`outbox pass failed: ${err.message}`))
      .finally(() => {
        this.pass = null;
      });
  }

  private sweep(): void {
    this.kick();
    void (async () => {
      const ids = await this.store.overdue(DEADLINE_BATCH);
      await Promise.all(ids.map((id) => this.scheduler.timeout(id).catch((err: Error) => this.log.warn(`timeout of ${id} failed: ${err.message}`))));
    })().catch((err: Error) => this.log.warn(`deadline sweep failed: ${err.message}`));
  }

  private async finalizeClaimed(id: string): Promise<void> {
    this.inHand.add(id);
    try {
      await this.finalize(id);
      this.failures.delete(id);
    } catch (err) {
      // Left leased: another pass takes the run again when the lease runs out. The failures are
      // counted, so a row the database keeps refusing is written with what it can store
      // (EXECUTOR_FINALIZE_MAX_ATTEMPTS) instead of being retried forever.
      if (!this.stopped) {
        const error = (err as Error).message;
        const known = this.failures.get(id)?.count ?? 0;
        const count = await this.store.countFinalizeFailure(id).catch(() => known + 1);
        if (this.failures.size >= MAX_REMEMBERED_FAILURES) this.failures.delete(this.failures.keys().next().value as string);
        this.failures.set(id, { count, error });
        this.log.warn(`finalizing ${id} failed (try ${count}, retried later): ${error}`);
      }
    } finally {
      this.inHand.delete(id);
    }
  }

  private async finalize(id: string): Promise<void> {
    let run = await this.store.load(id);
    if (!run) {
      await this.store.retire(id, undefined, 1);
      return;
    }
    if (!isTerminalRun(run.meta.status)) {
      this.log.warn(`run ${id} is in the outbox but ${run.meta.status}; left to its scheduler`);
      await this.store.retire(id, undefined, this.config.EXECUTOR_FINISHED_TTL_S).catch(() => undefined);
      return;
    }
    if (run.definition.steps.some((s) => isLiveStep(run!.steps[s.id].status))) {
      // The executor that ended the run died before settling its steps, or is settling them now
      // (the guarded moves make doing it twice harmless).
      const reason = run.meta.error ?? `run ${run.meta.status.toLowerCase()}`;
      await this.scheduler.settleSteps(run, 'CANCELLED', reason);
      this.aborts.abort(id, reason);
      run = (await this.store.load(id)) ?? run;
    }
    if (run.meta.status === 'FAILED' && compensationsDue(run).length > 0) {
      await this.compensate(run);
      run = (await this.store.load(id)) ?? run;
    }
    const { meta } = run;
    const started = Date.parse(meta.startedAt ?? meta.createdAt);
    const ended = Date.parse(meta.endedAt ?? new Date().toISOString());
    const results = Object.fromEntries(run.definition.steps.filter((s) => run!.steps[s.id].status === 'COMPLETED').map((s) => [s.id, run!.steps[s.id].result]));
    this.events.sessionEnd({
      tenantId: meta.tenantId,
      executionId: id,
      intent: meta.name,
      success: meta.status === 'COMPLETED',
      result: results,
      error: meta.error,
      startedAt: started,
      durationMs: ended - started,
    });
    await this.writer.final(this.afterFailures(id, toExecutionDocument(run)));
    await this.store.retire(id, meta.tenantId, this.config.EXECUTOR_FINISHED_TTL_S);
    this.plans.forget(id);
  }

  /**
   * The row as it is, or, once its writes failed EXECUTOR_FINALIZE_MAX_ATTEMPTS times, with what
   * the database can store (refused values as JSON text; after twice as many, without values),
   * its error saying so. A row that fails for another reason (the database down) is unchanged.
   */
  private afterFailures(id: string, doc: ExecutionDocument): ExecutionDocument {
    const failed = this.failures.get(id);
    const max = this.config.EXECUTOR_FINALIZE_MAX_ATTEMPTS;
    if (!failed || failed.count < max) return doc;
    const level = failed.count >= 2 * max ? 'minimal' : 'text';
    const row = storableRow(doc, level, failed.count, failed.error);
    if (row.error !== doc.error) this.log.warn(`run ${id}: ${row.error}`);
    return row;
  }

  /** Undoes completed steps that declare `compensate`, dependents first; each one at most once. */
  private async compensate(run: RunSnapshot): Promise<void> {
    const executionId = run.meta.id;
    const records: CompensationRecord[] = [...(run.meta.compensations ?? [])];
    for (const stepId of compensationsDue(run)) {
      const comp = run.definition.steps.find((s) => s.id === stepId)!.compensate!;
      const startedAt = Date.now();
      let params: Record<string, unknown> = {};
      const record: CompensationRecord = { stepId, tool: comp.tool, ok: true };
      let result: unknown;
      try {
        params = renderParameters(comp.parameters, templateContext(run));
        const signal = AbortSignal.timeout(this.config.EXECUTOR_STEP_TIMEOUT_MS);
        result = await this.tools.call(comp.tool, params, {
          tenantId: run.meta.tenantId,
          executionId,
          stepId,
          attempt: 1,
          // A compensation runs at most once per run (recorded), but its own key keeps it apart
          // from the step it undoes.
          idempotencyKey: stepIdempotencyKey(executionId, `${stepId}#compensate`),
          attemptKind: 'first',
          depth: run.meta.depth,
          deadline: Date.now() + this.config.EXECUTOR_STEP_TIMEOUT_MS,
          signal,
        });
      } catch (err) {
        record.ok = false;
        record.error = err instanceof ToolError || err instanceof Error ? err.message : String(err);
        this.log.warn(`compensation of ${executionId}/${stepId} failed: ${record.error}`);
      }
      const seq = await this.store.nextSeq(executionId);
      this.events.toolCall({
        tenantId: run.meta.tenantId,
        executionId,
        stepId: `${stepId}.compensate`,
        tool: comp.tool,
        parameters: params,
        result,
        success: record.ok,
        error: record.error,
        startedAt,
        durationMs: Date.now() - startedAt,
        seq,
      });
      records.push(record);
      const meta = (await this.store.loadMeta(executionId)) ?? run.meta;
      await this.store.setMeta(executionId, [meta.status], { ...meta, compensations: records });
    }
  }

  /** Before the connections close (their services stop in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.leaseTimer);
    await this.pass?.catch(() => undefined);
  }
}
