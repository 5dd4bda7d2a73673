import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { StartExecutionRequestSchema, type ExecutionStatus, type ExecutionUpdate, type ExecutionView, type StartExecutionReply } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import { applyInputDefaults, validateWorkflow, type StepStatus } from '@toolpath/workflow';
import type { ExecutorConfig } from '../executor.config';
import { RunEvents } from '../events/run-events.service';
import { ExecutorMetrics } from '../executor.metrics';
import { AbortBroadcaster } from './abort-broadcaster';
import { ExecutionRepository, toView } from './execution.repository';
import { ExecutionWriter } from './execution-writer';
import { ExecutorQueues } from './executor-queues';
import { toExecutionDocument, toExecutionView } from './execution-view';
import { RunPlans, type RunPlan } from './run-plans';
import { DepthExceeded, InvalidStartRequest, InvalidWorkflow, RunNotFound } from './run-errors';
import { pendingStep, isLiveStep, type RunMeta, type RunSnapshot, type StepState } from './run-state';
import { RunStore, createdOf, transitionOf } from './run-store';
import type { CreateResult } from './run-scripts';
import {
  cancelledMeta,
  decideRound,
  decideStart,
  endedMeta,
  isTerminalRun,
  openSteps,
  outcomeError,
  settledStep,
  timeoutError,
  type Move,
  type RunOutcome,
} from './round-logic';

const LIVE: ExecutionStatus[] = ['PENDING', 'RUNNING'];
const IDEMPOTENCY_TTL_S = 24 * 3600;

/** Time-ordered, so Mongo's `_id` order is creation order and serves as the list cursor. */
export function newExecutionId(now = Date.now()): string {
  return `ex_${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

export interface AdvanceOptions {
  /** The run as its caller has just read or written it (saves the first read). */
  known?: RunSnapshot;
  /**
   * Queue again every step that is QUEUED, not only the ones this round queues: the repair after
   * an executor died between marking a step QUEUED and adding its job (a no-op for a step whose
   * job exists, thanks to the deterministic job id).
   */
  repair?: boolean;
}

/**
 * The scheduler: starts runs, moves them forward after every change (`advance`), ends and
 * cancels them. All state lives in Redis behind the RunStore's guarded transitions, so any
 * executor can advance any run and concurrent advances are harmless. What happens after a run
 * has ended (settling, compensation, session_end, the final Mongo row) is the RunFinalizer's.
 */
@Injectable()
export class RunScheduler implements OnApplicationShutdown {
  private readonly log = new Logger('RunScheduler');
  private readonly snapshotTimers = new Map<string, NodeJS.Timeout>();
  private readonly writes = new Set<Promise<unknown>>();
  private endedHandler?: () => void;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly store: RunStore,
    private readonly repo: ExecutionRepository,
    private readonly writer: ExecutionWriter,
    private readonly queues: ExecutorQueues,
    private readonly events: RunEvents,
    private readonly metrics: ExecutorMetrics,
    private readonly plans: RunPlans,
    private readonly aborts: AbortBroadcaster,
  ) {}

  /**
   * Starts a run (or, for an idempotency key already held, answers the run holding it). Throws
   * InvalidStartRequest, DepthExceeded or InvalidWorkflow (run-errors.ts) for a request it refuses.
   */
  async start(raw: unknown): Promise<StartExecutionReply> {
    const parsed = StartExecutionRequestSchema.safeParse(raw);
    if (!parsed.success) throw new InvalidStartRequest(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const req = parsed.data;
    if (req.depth > this.config.EXECUTOR_MAX_DEPTH) throw new DepthExceeded(this.config.EXECUTOR_MAX_DEPTH, req.depth);
    const validation = validateWorkflow(req.definition);
    if (!validation.ok) throw new InvalidWorkflow(validation.errors);
    const definition = validation.workflow;
    const id = newExecutionId();
    const now = new Date();
    const meta: RunMeta = {
      id,
      tenantId: req.tenantId,
      name: definition.name,
      status: 'RUNNING',
      // Every run, top-level or a sub-workflow's, starts with the defaults its variables declare.
      input: applyInputDefaults(definition, req.input),
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

    // Nobody else knows this run until it is written, so its first rounds are decided in memory
    // and written with it: one script creates the run with its first steps already QUEUED.
    const plan = this.plans.remember(id, definition, meta);
    const run: RunSnapshot = { meta, definition, steps: Object.fromEntries(definition.steps.map((s) => [s.id, pendingStep()])) };
    const { changed, finished } = decideStart(run, plan, now.getTime());
    const open = openSteps(run);
    const jobs = this.jobsFor(run, plan, definition.steps.filter((s) => run.steps[s.id].status === 'QUEUED').map((s) => s.id));
    let created: CreateResult;
    if (req.idempotencyKey === undefined) {
      // The run and its first jobs in one transaction: one round trip, and no run without its jobs.
      created = createdOf((await this.queues.addStepsAfter((tx) => this.store.createIn(tx, run, open), 1, jobs))[0]);
    } else {
      created = await this.store.create(run, open, { key: req.idempotencyKey, ttlS: IDEMPOTENCY_TTL_S });
      if (created.created) await this.queues.addSteps(jobs);
    }
    if (!created.created) {
      this.plans.forget(id);
      const existing = created.existing;
      const known = await this.store.loadMeta(existing);
      // A live run found by its key may be one whose starter died before queueing its steps.
      if (known && !isTerminalRun(known.status)) this.background(this.advance(existing, { repair: true }), `repair of ${existing}`);
      const doc = known ? null : await this.repo.get(req.tenantId, existing);
      return { executionId: existing, status: known?.status ?? doc?.status ?? 'PENDING', created: false };
    }
    this.events.update({ executionId: id, tenantId: meta.tenantId, kind: 'run', status: 'RUNNING', at: meta.createdAt });
    for (const stepId of changed) this.publishStep(run, stepId);
    if (finished) await this.finishWith(run, finished);
    else this.scheduleSnapshot(id);
    return { executionId: id, status: finished ? finished.outcome : 'RUNNING', created: true };
  }

  /**
   * Moves a run forward: applies the rounds `decideRound` decides (each change guarded in Redis),
   * queues the steps that became QUEUED, and ends the run when nothing is left in flight.
   */
  async advance(executionId: string, opts: AdvanceOptions = {}): Promise<void> {
    let plan = this.plans.get(executionId);
    for (let round = 0; round < 10_000; round++) {
      let run: RunSnapshot | null;
      if (round === 0 && opts.known) run = opts.known;
      else if (plan) run = await this.store.loadWith(executionId, plan.definition);
      else run = await this.store.load(executionId);
      if (!run || isTerminalRun(run.meta.status)) return;
      plan ??= this.plans.remember(executionId, run.definition, run.meta);
      const r = decideRound(run, plan);
      // A step becomes QUEUED and gets its job in one transaction; other moves go one script each
      // (sent together, answered together). A job added for a step another executor moved first is a
      // no-op (same job id) or, if that step has already ended, finds it ended and does nothing.
      const toQueue = r.moves.filter((m) => m.next.status === 'QUEUED');
      const others = r.moves.filter((m) => m.next.status !== 'QUEUED');
      const [queueOutcomes, otherOutcomes] = await Promise.all([
        toQueue.length === 0
          ? Promise.resolve([] as boolean[])
          : this.queues
              .addStepsAfter(
                (tx) => toQueue.forEach((m) => this.store.setStepIn(tx, executionId, m.stepId, m.from, m.next)),
                toQueue.length,
                this.jobsFor(run, plan, toQueue.map((m) => m.stepId)),
              )
              .then((answers) => answers.map((a, i) => this.moved(run, toQueue[i].stepId, transitionOf(a).ok, toQueue[i].next))),
        Promise.all(
          others.map(async (m) => {
            const t = await this.store.setStep(executionId, m.stepId, m.from, m.next);
            return { moved: this.moved(run, m.stepId, t.ok, m.next), open: t.ok ? t.open : undefined };
          }),
        ),
      ]);
      const outcomeOf = new Map<Move, boolean>();
      toQueue.forEach((m, i) => outcomeOf.set(m, queueOutcomes[i]));
      others.forEach((m, i) => outcomeOf.set(m, otherOutcomes[i].moved));
      // This round's snapshot may be older than a step that has ended meanwhile (its attempt saw
      // our step still open, so it left the run to us): the move that closes the last open step
      // obliges its maker to look again and end the run.
      const closedLast = otherOutcomes.some((o) => o.open === 0);
      const outcomes = r.moves.map((m) => outcomeOf.get(m)!);
      const queued: string[] = [];
      const removed: string[] = [];
      let again = false;
      let stopped: string | undefined;
      r.moves.forEach((m, i) => {
        if (!outcomes[i]) return;
        if (m.next.status === 'CANCELLED') removed.push(m.stepId);
        if (m.from.includes('RUNNING') && m.next.status === 'CANCELLED') stopped = m.next.reason;
        again ||= m.again === true;
      });
      if (opts.repair && round === 0) {
        const justQueued = new Set(toQueue.map((m) => m.stepId));
        for (const s of run.definition.steps) if (run.steps[s.id].status === 'QUEUED' && !justQueued.has(s.id)) queued.push(s.id);
      }
      await Promise.all([this.queues.addSteps(this.jobsFor(run, plan, queued)), ...removed.map((s) => this.queues.removeStep(executionId, s))]);
      if (stopped !== undefined) this.aborts.abort(executionId, stopped);
      if (again || (closedLast && !r.finished)) continue;
      if (r.finished) await this.finishWith(run, r.finished);
      else this.scheduleSnapshot(executionId);
      return;
    }
  }

  private jobsFor(run: RunSnapshot, plan: RunPlan, stepIds: readonly string[]) {
    return stepIds.map((stepId) => {
      const step = plan.step.get(stepId)!;
      return { executionId: run.meta.id, stepId, tenantId: run.meta.tenantId, backoff: step.retry?.backoff, maxAttempts: step.retry?.maxAttempts ?? 1 };
    });
  }

  private async finishWith(run: RunSnapshot, finished: RunOutcome): Promise<void> {
    await this.finish(run.meta.id, finished.outcome, outcomeError(run, finished), finished.abortedBy, run.meta);
  }

  /** Moves a step if its status is one of `from`; publishes the change. */
  private async moveStep(run: RunSnapshot, stepId: string, from: readonly StepStatus[], next: StepState): Promise<boolean> {
    return this.moved(run, stepId, (await this.store.setStep(run.meta.id, stepId, from, next)).ok, next);
  }

  private moved(run: RunSnapshot, stepId: string, ok: boolean, next: StepState): boolean {
    if (!ok) return false;
    run.steps[stepId] = next;
    this.publishStep(run, stepId);
    return true;
  }

  /**
   * Publishes a step's state change (on NATS, for live views). An ended step's update carries the
   * end its state records, the clock reading its run's end is taken from or after (see
   * `finish`, END_ATTEMPT_LUA, `endRunSettling`), so a run's end never precedes its steps'.
   */
  publishStep(run: RunSnapshot, stepId: string): void {
    const st = run.steps[stepId];
    const at = !isLiveStep(st.status) && st.endedAt ? st.endedAt : new Date().toISOString();
    const u: ExecutionUpdate = { executionId: run.meta.id, tenantId: run.meta.tenantId, kind: 'step', stepId, status: st.status, at };
    if (st.attempts) u.attempt = st.attempts;
    if (st.durationMs !== null && st.durationMs !== undefined && !isLiveStep(st.status)) u.durationMs = st.durationMs;
    if (st.error !== undefined) u.error = st.error;
    this.events.update(u);
  }

  /**
   * Ends a live run (one executor wins): its status, an outbox entry and the removal of its
   * deadline in one atomic step, so the run's end is handled even if this executor dies right
   * after. `known` is a meta its caller has just read (the transition still checks the status).
   * With `settle`, the steps still live are cancelled and their attempts aborted (with that
   * reason) before the run's end is announced.
   */
  private async finish(executionId: string, outcome: ExecutionStatus, error?: string, abortedBy?: string, known?: RunMeta, settle?: string): Promise<boolean> {
    const meta = known ?? (await this.store.loadMeta(executionId));
    if (!meta || isTerminalRun(meta.status)) return false;
    const ended = endedMeta(meta, outcome, new Date(), error, abortedBy);
    if (settle !== undefined) {
      const run = await this.store.load(executionId);
      if (!run || !(await this.endSettling(run, ended, settle))) return false;
    } else if (!(await this.store.endRun(executionId, LIVE, ended))) {
      return false;
    }
    this.ended(ended);
    return true;
  }

  /**
   * Ends a live run with its live steps cancelled (one atomic step), then removes their jobs and
   * aborts their running attempts everywhere (an aborted attempt finds its step CANCELLED and
   * records nothing).
   */
  private async endSettling(run: RunSnapshot, ended: RunMeta, reason: string): Promise<boolean> {
    const settled = await this.store.endRunSettling(run, LIVE, ended, reason);
    if (settled === null) return false;
    run.meta = ended;
    for (const s of settled) {
      run.steps[s.stepId] = s.state;
      this.publishStep(run, s.stepId);
    }
    await Promise.all(settled.filter((s) => s.previous !== 'RUNNING').map((s) => this.queues.removeStep(run.meta.id, s.stepId)));
    if (settled.some((s) => s.previous === 'RUNNING' || s.previous === 'QUEUED')) this.aborts.abort(run.meta.id, reason);
    return true;
  }

  /** A run has ended (here): counted, announced, and the finalizer told. */
  ended(meta: RunMeta): void {
    this.metrics.runs.inc({ outcome: meta.status });
    this.events.update({ executionId: meta.id, tenantId: meta.tenantId, kind: 'run', status: meta.status, at: meta.endedAt!, error: meta.error });
    this.cancelSnapshot(meta.id);
    this.endedHandler?.();
  }

  /**
   * Cancels a live run: the status first (so nothing new starts), then its steps and running
   * attempts. Answers the run as it is then (an ended run unchanged); throws RunNotFound.
   */
  async cancel(tenantId: string, executionId: string, reason = 'cancelled'): Promise<ExecutionView> {
    const run = await this.store.load(executionId);
    if (!run || run.meta.tenantId !== tenantId) {
      const doc = run ? null : await this.repo.get(tenantId, executionId);
      if (doc) return toView(doc);
      throw new RunNotFound(executionId);
    }
    if (!isTerminalRun(run.meta.status)) {
      const ended = cancelledMeta(run.meta, reason, new Date());
      if (await this.endSettling(run, ended, reason)) this.ended(ended);
    }
    const fresh = (await this.store.load(executionId)) ?? run;
    return toExecutionView(fresh);
  }

  /** The run's deadline passed: it fails, and what still runs is stopped. */
  async timeout(executionId: string): Promise<void> {
    const run = await this.store.load(executionId);
    if (!run || isTerminalRun(run.meta.status)) {
      // Ended runs leave the deadline list when they end; this one was left by a crash.
      await this.store.dropDeadline(executionId);
      return;
    }
    await this.finish(executionId, 'FAILED', timeoutError(run.meta), undefined, run.meta, 'run timed out');
  }

  /** The finalizer wants to hear when a run has ended here (it then looks at the outbox at once). */
  onRunEnded(handler: () => void): void {
    this.endedHandler = handler;
  }

  /**
   * Moves every live step of a run (any live status, not only the one read) to `status`. The run
   * has ended: its steps end when it did, not later.
   */
  async settleSteps(run: RunSnapshot, status: StepStatus, reason: string): Promise<void> {
    const endMs = run.meta.endedAt ? Math.min(Date.now(), Date.parse(run.meta.endedAt)) : Date.now();
    await Promise.all(
      run.definition.steps.map(async (s) => {
        const st = run.steps[s.id];
        if (!isLiveStep(st.status)) return;
        // A step an executor started since the read is settled too (its aborted attempt then
        // finds it settled and records nothing).
        if (await this.moveStep(run, s.id, ['PENDING', 'QUEUED', 'RUNNING'], settledStep(st, status, endMs, reason))) {
          if (st.status !== 'RUNNING') await this.queues.removeStep(run.meta.id, s.id);
        }
      }),
    );
  }

  /** The run, live or written; throws RunNotFound. */
  async get(tenantId: string, executionId: string): Promise<ExecutionView> {
    const run = await this.store.load(executionId);
    if (run) {
      if (run.meta.tenantId !== tenantId) throw new RunNotFound(executionId);
      return toExecutionView(run);
    }
    const doc = await this.repo.get(tenantId, executionId);
    if (!doc) throw new RunNotFound(executionId);
    return toView(doc);
  }

  /**
   * Writes a running run's row at most once per interval (coalesced): a run shorter than the
   * interval is written once, when it ends, by the finalizer.
   */
  scheduleSnapshot(executionId: string): void {
    if (this.snapshotTimers.has(executionId)) return;
    const timer = setTimeout(() => {
      this.snapshotTimers.delete(executionId);
      this.background(
        this.store.load(executionId).then((run) => (run && !isTerminalRun(run.meta.status) ? this.writer.snapshot(toExecutionDocument(run)) : undefined)),
        `snapshot of ${executionId}`,
      );
    }, this.config.EXECUTOR_SNAPSHOT_INTERVAL_MS);
    timer.unref();
    this.snapshotTimers.set(executionId, timer);
  }

  private cancelSnapshot(executionId: string): void {
    clearTimeout(this.snapshotTimers.get(executionId));
    this.snapshotTimers.delete(executionId);
  }

  private background(p: Promise<unknown>, what: string): void {
    const tracked = p.catch((err) => this.log.warn(`${what} failed: ${(err as Error).message}`));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const t of this.snapshotTimers.values()) clearTimeout(t);
    this.snapshotTimers.clear();
    await Promise.allSettled([...this.writes]);
  }
}
