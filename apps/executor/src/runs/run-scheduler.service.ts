import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  StartExecutionRequestSchema,
  TERMINAL_EXECUTION_STATUSES,
  type ExecutionStatus,
  type ExecutionView,
  type ExecutorReply,
  type StartExecutionReply,
} from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import {
  computeReadySteps,
  evaluateCondition,
  fallbackOf,
  validateWorkflow,
  type StepStatus,
  type TemplateContext,
} from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import { RunEvents } from '../events/run-events.service';
import { ExecutorMetrics } from '../executor.metrics';
import { ExecutionRepository, toView, type ExecutionDocument } from './execution.repository';
import { ExecutorQueues } from './executor-queues';
import { toExecutionView } from './execution-view';
import { pendingStep, type RunMeta, type RunSnapshot, type StepState } from './run-state';
import { RunStore } from './run-store';

const LIVE: ExecutionStatus[] = ['PENDING', 'RUNNING'];
const IDEMPOTENCY_TTL_S = 24 * 3600;

export const isTerminalRun = (status: ExecutionStatus): boolean => TERMINAL_EXECUTION_STATUSES.has(status);

/** Time-ordered, so Mongo's `_id` order is creation order and serves as the list cursor. */
export function newExecutionId(now = Date.now()): string {
  return `ex_${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

export function fail(status: number, code: string, message: string, details?: unknown): ExecutorReply<never> {
  return { ok: false, error: details === undefined ? { status, code, message } : { status, code, message, details } };
}

/**
 * What templates see of a run: the input and each step's view. A step recovered by its fallback
 * shows the fallback's result as its own, so dependents read `steps.<step>.result` either way.
 */
export function templateContext(run: RunSnapshot): TemplateContext {
  const steps: Record<string, unknown> = {};
  for (const s of run.definition.steps) {
    const st = run.steps[s.id];
    steps[s.id] = { status: st.status, result: st.result ?? null, error: st.error ?? null, attempts: st.attempts };
  }
  for (const s of run.definition.steps) {
    const f = fallbackOf(s);
    if (f && run.steps[s.id].status === 'FAILED' && run.steps[f]?.status === 'COMPLETED') {
      steps[s.id] = { ...(steps[s.id] as object), result: run.steps[f].result ?? null };
    }
  }
  return { input: run.meta.input, steps };
}

/**
 * The scheduler: starts runs, moves them forward after every change (`advance`), finishes and
 * cancels them. All state lives in Redis behind the RunStore's guarded transitions, so any
 * executor can advance any run and concurrent advances are harmless.
 */
@Injectable()
export class RunScheduler implements OnApplicationShutdown {
  private readonly log = new Logger('RunScheduler');
  private readonly snapshotTimers = new Map<string, NodeJS.Timeout>();
  private readonly writes = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly queues: ExecutorQueues,
    private readonly events: RunEvents,
    private readonly metrics: ExecutorMetrics,
  ) {}

  async start(raw: unknown): Promise<ExecutorReply<StartExecutionReply>> {
    const parsed = StartExecutionRequestSchema.safeParse(raw);
    if (!parsed.success) {
      return fail(400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    }
    const req = parsed.data;
    if (req.depth > this.config.EXECUTOR_MAX_DEPTH) {
      return fail(422, 'depth_exceeded', `sub-workflows nest at most ${this.config.EXECUTOR_MAX_DEPTH} deep (this run would be at depth ${req.depth})`);
    }
    const validation = validateWorkflow(req.definition);
    if (!validation.ok) {
      const first = validation.errors[0];
      const where = first.stepId ? `step ${first.stepId}: ` : '';
      return fail(422, 'invalid_workflow', `invalid workflow definition: ${where}${first.message}`, validation.errors);
    }
    const definition = validation.workflow;
    const id = newExecutionId();
    if (req.idempotencyKey !== undefined) {
      const existing = await this.store.claimIdempotencyKey(req.tenantId, req.idempotencyKey, id, IDEMPOTENCY_TTL_S);
      if (existing !== null) {
        const meta = await this.store.loadMeta(existing);
        const doc = meta ? null : await this.repo.get(req.tenantId, existing);
        return { ok: true, value: { executionId: existing, status: meta?.status ?? doc?.status ?? 'PENDING', created: false } };
      }
    }
    const now = new Date();
    const meta: RunMeta = {
      id,
      tenantId: req.tenantId,
      name: definition.name,
      status: 'RUNNING',
      input: req.input,
      createdAt: now.toISOString(),
      startedAt: now.toISOString(),
      endedAt: null,
      depth: req.depth,
      deadline: now.getTime() + (req.timeoutMs ?? this.config.EXECUTOR_RUN_TIMEOUT_MS),
    };
    if (req.workflowId !== undefined) meta.workflowId = req.workflowId;
    if (req.version !== undefined) meta.version = req.version;
    if (req.parentExecutionId !== undefined) meta.parentExecutionId = req.parentExecutionId;
    if (req.idempotencyKey !== undefined) meta.idempotencyKey = req.idempotencyKey;
    await this.store.create(meta, definition);
    const run: RunSnapshot = { meta, definition, steps: Object.fromEntries(definition.steps.map((s) => [s.id, pendingStep()])) };
    // The durable row and the timeout job go alongside the first steps, not before them.
    const insert = this.track(this.repo.insert(this.toDocument(run)).catch((err) => this.log.warn(`insert of ${id} failed: ${(err as Error).message}`)));
    // The first round of advance works on the snapshot just written instead of reading it back.
    await Promise.all([this.queues.addRunJob('timeout', id, meta.deadline - now.getTime()), this.advance(id, run)]);
    await insert;
    this.events.update({ executionId: id, tenantId: meta.tenantId, kind: 'run', status: 'RUNNING', at: now.toISOString() });
    const status = (await this.store.loadMeta(id))?.status ?? 'RUNNING';
    return { ok: true, value: { executionId: id, status, created: true } };
  }

  /**
   * Moves a run forward: skips and cancels what can no longer run, evaluates conditions, queues
   * ready steps, and finishes the run when nothing is left in flight.
   */
  async advance(executionId: string, known?: RunSnapshot): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      // `known` (the state its caller has just written) saves the first read.
      const run = round === 0 && known ? known : await this.store.load(executionId);
      if (!run || isTerminalRun(run.meta.status)) return;
      const states: Record<string, StepStatus> = {};
      for (const [id, st] of Object.entries(run.steps)) states[id] = st.status;
      const r = computeReadySteps(run.definition, states);
      let again = false;
      const at = new Date().toISOString();
      for (const s of r.skip) {
        await this.moveStep(run, s.stepId, ['PENDING'], { ...run.steps[s.stepId], status: 'SKIPPED', endedAt: at, reason: s.reason });
      }
      for (const stepId of r.cancel) {
        if (await this.moveStep(run, stepId, ['PENDING', 'QUEUED'], { ...run.steps[stepId], status: 'CANCELLED', endedAt: at })) {
          await this.queues.removeStep(executionId, stepId);
        }
      }
      const toQueue: string[] = [];
      // Independent transitions: sent together (one round trip for a wide fan-out, not one each).
      const moves: Array<Promise<string | null>> = [];
      const context = r.ready.length > 0 ? templateContext(run) : {};
      for (const stepId of r.ready) {
        const step = run.definition.steps.find((s) => s.id === stepId)!;
        if (step.condition !== undefined) {
          let pass: boolean;
          try {
            pass = evaluateCondition(step.condition, context);
          } catch (err) {
            again ||= await this.moveStep(run, stepId, ['PENDING'], {
              ...run.steps[stepId],
              status: 'FAILED',
              endedAt: at,
              error: `condition could not be evaluated: ${(err as Error).message}`,
            });
            continue;
          }
          if (!pass) {
            again ||= await this.moveStep(run, stepId, ['PENDING'], { ...run.steps[stepId], status: 'SKIPPED', endedAt: at, reason: 'condition was false' });
            continue;
          }
        }
        moves.push(this.moveStep(run, stepId, ['PENDING'], { ...run.steps[stepId], status: 'QUEUED' }).then((moved) => (moved ? stepId : null)));
      }
      for (const stepId of await Promise.all(moves)) if (stepId !== null) toQueue.push(stepId);
      // Steps already QUEUED are queued again: a no-op while their job exists (deterministic ids),
      // and the repair when an executor died between marking a step and adding its job. (The
      // steps just moved are QUEUED in `run` too: the set keeps each once.)
      const queue = new Set(toQueue);
      for (const s of run.definition.steps) if (run.steps[s.id].status === 'QUEUED') queue.add(s.id);
      await this.queues.addSteps(
        [...queue].map((stepId) => {
          const step = run.definition.steps.find((s) => s.id === stepId)!;
          return { executionId, stepId, tenantId: run.meta.tenantId, backoff: step.retry?.backoff, maxAttempts: step.retry?.maxAttempts ?? 1 };
        }),
      );
      if (again) continue;
      if (r.finished) {
        const failedBy = r.abortedBy;
        const error = failedBy ? `step ${failedBy} failed: ${run.steps[failedBy]?.error ?? 'unknown error'}` : undefined;
        await this.finish(executionId, r.outcome ?? 'COMPLETED', error, failedBy, run.meta);
      } else {
        this.scheduleSnapshot(executionId);
      }
      return;
    }
  }

  /** Moves a step if its status is one of `from`; publishes the change. */
  async moveStep(run: RunSnapshot, stepId: string, from: readonly StepStatus[], next: StepState): Promise<boolean> {
    const moved = await this.store.setStep(run.meta.id, stepId, from, next);
    if (!moved.ok) return false;
    run.steps[stepId] = next;
    this.events.update({
      executionId: run.meta.id,
      tenantId: run.meta.tenantId,
      kind: 'step',
      stepId,
      status: next.status,
      attempt: next.attempts || undefined,
      at: new Date().toISOString(),
      durationMs: next.durationMs ?? undefined,
      error: next.error,
    });
    return true;
  }

  /**
   * Ends a live run (one executor wins) and hands compensation and the final write to the runs
   * queue. `known` is a meta its caller has just read (the transition still checks the status).
   * With `settle`, the steps still live are cancelled and their attempts aborted (with that
   * reason) before the run's end is announced and the final write is queued, so neither sees a
   * step of an ended run still RUNNING.
   */
  async finish(executionId: string, outcome: ExecutionStatus, error?: string, abortedBy?: string, known?: RunMeta, settle?: string): Promise<boolean> {
    const meta = known ?? (await this.store.loadMeta(executionId));
    if (!meta || isTerminalRun(meta.status)) return false;
    const ended: RunMeta = { ...meta, status: outcome, endedAt: new Date().toISOString() };
    if (error !== undefined) ended.error = error;
    if (abortedBy !== undefined) ended.abortedBy = abortedBy;
    const moved = await this.store.setMeta(executionId, LIVE, ended);
    if (!moved.ok) return false;
    if (settle !== undefined) {
      // Read after the run became terminal, so it includes steps that moved meanwhile.
      const run = await this.store.load(executionId);
      if (run) await this.settleSteps(run, 'CANCELLED', settle);
      await this.abortRunning(executionId, settle);
    }
    this.metrics.runs.inc({ outcome });
    this.events.update({ executionId, tenantId: meta.tenantId, kind: 'run', status: outcome, at: ended.endedAt!, error });
    this.cancelSnapshot(executionId);
    await this.queues.addRunJob('finish', executionId);
    return true;
  }

  /** Cancels a live run: the status first (so nothing new starts), then its steps and running attempts. */
  async cancel(tenantId: string, executionId: string, reason = 'cancelled'): Promise<ExecutorReply<ExecutionView>> {
    const run = await this.store.load(executionId);
    if (!run || run.meta.tenantId !== tenantId) {
      const doc = run ? null : await this.repo.get(tenantId, executionId);
      if (doc) return { ok: true, value: toView(doc) };
      return fail(404, 'not_found', `execution ${executionId} not found`);
    }
    if (!isTerminalRun(run.meta.status)) {
      const ended: RunMeta = { ...run.meta, status: 'CANCELLED', endedAt: new Date().toISOString(), error: reason };
      if ((await this.store.setMeta(executionId, LIVE, ended)).ok) {
        run.meta = ended;
        this.metrics.runs.inc({ outcome: 'CANCELLED' });
        // Steps first: an aborted attempt must find its step CANCELLED, not record a failure.
        await this.settleSteps(run, 'CANCELLED', reason);
        await this.abortRunning(executionId, reason);
        this.events.update({ executionId, tenantId, kind: 'run', status: 'CANCELLED', at: ended.endedAt!, error: reason });
        this.cancelSnapshot(executionId);
        await this.queues.addRunJob('finish', executionId);
      }
    }
    const fresh = (await this.store.load(executionId)) ?? run;
    return { ok: true, value: toExecutionView(fresh) };
  }

  /** The run's deadline passed: it fails, and what still runs is stopped. */
  async timeout(executionId: string): Promise<void> {
    const run = await this.store.load(executionId);
    if (!run || isTerminalRun(run.meta.status)) return;
    const error = `run timed out after ${run.meta.deadline - Date.parse(run.meta.startedAt ?? run.meta.createdAt)} ms`;
    await this.finish(executionId, 'FAILED', error, undefined, run.meta, 'run timed out');
  }

  private abortHandler?: (executionId: string, reason: string) => Promise<void>;
  /** The API service broadcasts aborts to every executor; set at bootstrap. */
  onAbort(handler: (executionId: string, reason: string) => Promise<void>): void {
    this.abortHandler = handler;
  }
  private async abortRunning(executionId: string, reason: string): Promise<void> {
    await this.abortHandler?.(executionId, reason);
  }

  private async settleSteps(run: RunSnapshot, status: StepStatus, reason: string): Promise<void> {
    const at = new Date().toISOString();
    for (const s of run.definition.steps) {
      const st = run.steps[s.id];
      if (st.status !== 'PENDING' && st.status !== 'QUEUED' && st.status !== 'RUNNING') continue;
      const durationMs = st.startedAt ? Date.now() - Date.parse(st.startedAt) : null;
      // Any live status, not only the one read: a step an executor started since is settled too
      // (its aborted attempt then finds it settled and records nothing).
      if (await this.moveStep(run, s.id, ['PENDING', 'QUEUED', 'RUNNING'], { ...st, status, endedAt: at, durationMs, reason })) {
        if (st.status !== 'RUNNING') await this.queues.removeStep(run.meta.id, s.id);
      }
    }
  }

  async get(tenantId: string, executionId: string): Promise<ExecutorReply<ExecutionView>> {
    const run = await this.store.load(executionId);
    if (run) {
      if (run.meta.tenantId !== tenantId) return fail(404, 'not_found', `execution ${executionId} not found`);
      return { ok: true, value: toExecutionView(run) };
    }
    const doc = await this.repo.get(tenantId, executionId);
    if (!doc) return fail(404, 'not_found', `execution ${executionId} not found`);
    return { ok: true, value: toView(doc) };
  }

  toDocument(run: RunSnapshot): ExecutionDocument {
    const { id, ...view } = toExecutionView(run);
    return { _id: id, ...view, tenantId: run.meta.tenantId, name: run.meta.name, definition: run.definition, depth: run.meta.depth, updatedAt: new Date() };
  }

  /** Rewrites the Mongo row of a running run at most once per interval (coalesced). */
  scheduleSnapshot(executionId: string): void {
    if (this.snapshotTimers.has(executionId)) return;
    const timer = setTimeout(() => {
      this.snapshotTimers.delete(executionId);
      this.track(
        this.store
          .load(executionId)
          .then((run) => (run && !isTerminalRun(run.meta.status) ? this.repo.snapshot(this.toDocument(run)) : undefined))
          .catch((err) => this.log.warn(`snapshot of ${executionId} failed: ${(err as Error).message}`)),
      );
    }, this.config.EXECUTOR_SNAPSHOT_INTERVAL_MS);
    timer.unref();
    this.snapshotTimers.set(executionId, timer);
  }

  private cancelSnapshot(executionId: string): void {
    clearTimeout(this.snapshotTimers.get(executionId));
    this.snapshotTimers.delete(executionId);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p));
    return p;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const t of this.snapshotTimers.values()) clearTimeout(t);
    this.snapshotTimers.clear();
    await Promise.allSettled([...this.writes]);
  }
}
