import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { JsMsg } from 'nats';
import { RECORDER_CONSUMER, RejectReason, eventsSubject, type AnalyzerRunMode } from '@toolpath/contracts';
import { ToolEventReader, ToolEventWriter, arrivalMillis, isStoreOutage, type RejectedEvent } from '@toolpath/event-store';
import type { MiningEvent } from '@toolpath/mining';
import { APP_CONFIG } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import { AnalyzerMetrics } from '../analyzer.metrics';
import { decodeStreamEvent, miningEventFromRow } from '../intake/decode-mining-event';
import { EventStreamReader } from '../intake/event-stream.reader';
import { PatternRepository } from '../patterns/pattern.repository';
import { CLOSE_ALL, TenantLearning } from '../state/tenant-learning';
import { StateConflictError, TenantStateRepository, type StreamCursor } from '../state/tenant-state.repository';
import { TenantStates } from '../state/tenant-states.service';
import { SuggestionsService } from '../suggestions/suggestions.service';
import { AutoPromoter } from './auto-promoter';
import { RunLock, type HeldLock } from './run-lock';
import { RunRepository, emptyShare, newRunId, type RunRecord, type TenantShare } from './run.repository';

/** Rows fed to the assembler between two closings during a full rebuild. */
const REBUILD_BATCH = 5000;
/** How long a full rebuild waits for the recorder to have stored what the analyzer has read. */
const RECORDER_CATCH_UP_MS = 10_000;
/** Pause between two attempts at the lock while an on-demand run waits for its turn. */
const LOCK_RETRY_MS = 200;

export type RunRequestOutcome = { started: true; run: RunRecord; done: boolean } | { started: false; holder: string | undefined };

/** One tenant's share of a run step, as the counting and dead-lettering of its events need it. */
interface TenantStep {
  record: RunRecord;
  tenantId: string;
  /** The arrival-clock time the step's last events may close sessions at. */
  stepClock: number;
  now: number;
  /** Tenants whose state this run changed. */
  touched: Set<string>;
  /** The step's messages by stream sequence (the bytes a dead letter keeps). */
  bySeq: Map<number, JsMsg>;
}

/**
 * AnalyzerRun: one run at a time across all analyzers (the Redis lock), started by the schedule
 * or on request.
 *
 * Incremental: reads the analyzer's durable consumer from where the last run stopped, in steps of
 * ANALYZER_PERSIST_EVERY events. Each step feeds every tenant's session assembler, counts the
 * sessions that closed, persists each touched tenant (journal entry + open sessions + watermark),
 * moves the stream cursor, and only then acknowledges the step's messages. A crash before the
 * acknowledgement makes the next run re-read the step; the tenants already persisted skip it by
 * their watermark, the others count it for the first time. Nothing is lost, nothing counted twice.
 *
 * Full: catches up incrementally, then rebuilds the caller's tenant from `tool_events` (rows up to
 * the stream cursor; later ones arrive through the stream) and replaces its state.
 */
@Injectable()
export class AnalyzerRunService implements OnApplicationShutdown {
  private readonly log = new Logger('AnalyzerRun');
  private active?: Promise<RunRecord>;
  /** Settles when the active run's record is final (before the compaction that may follow it). */
  private activeEnded?: Promise<unknown>;
  private stopping = false;
  private lastPrune = 0;
  /** Server time at the start of this run's reading, once all that was stored before it was read. */
  private vouchedClock?: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    @InjectConnection() private readonly connection: Connection,
    private readonly lock: RunLock,
    private readonly reader: EventStreamReader,
    private readonly runs: RunRepository,
    private readonly stateRepo: TenantStateRepository,
    private readonly patternRows: PatternRepository,
    /** `rejected_events` has one writer (the event store's): the analyzer's dead letters go through it too. */
    private readonly deadLetters: ToolEventWriter,
    /** `tool_events` as the recorder stored them, read by a full rebuild. */
    private readonly storedEvents: ToolEventReader,
    private readonly states: TenantStates,
    private readonly metrics: AnalyzerMetrics,
    private readonly promoter: AutoPromoter,
    private readonly suggestions: SuggestionsService,
  ) {}

  /** A scheduled run: one attempt at the lock; when another analyzer holds it, this one skips. */
  async scheduled(): Promise<void> {
    if (this.active || this.stopping) return;
    const outcome = await this.start('incremental', 'schedule', null, 0);
    const running = this.active as Promise<RunRecord> | undefined;
    if (outcome.started) await running?.catch(() => undefined);
  }

  /**
   * An on-demand run: waits for the lock up to `waitMs`, then for the run up to what is left of
   * `waitMs`. The caller gets the record as it stands (done or still running).
   */
  async requested(mode: AnalyzerRunMode, tenantId: string, waitMs: number): Promise<RunRequestOutcome> {
    const deadline = Date.now() + waitMs;
    const outcome = await this.start(mode, 'request', tenantId, waitMs);
    if (!outcome.started) return outcome;
    // The answer does not wait for the compaction that follows the run (the lock does).
    const ended = this.activeEnded!;
    const left = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      ended.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), left))),
    ]);
    clearTimeout(timer);
    return { started: true, run: outcome.run, done };
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.active?.catch(() => undefined);
  }

  private async start(mode: AnalyzerRunMode, trigger: RunRecord['trigger'], tenantId: string | null, waitMs: number): Promise<RunRequestOutcome> {
    const id = newRunId();
    const deadline = Date.now() + waitMs;
    let held: HeldLock | undefined;
    for (;;) {
      // This process's own run first: a request waits for it rather than racing it for the lock.
      if (this.active) await settledWithin(this.active, Math.max(0, deadline - Date.now()));
      if (!this.active) held = await this.lock.tryAcquire(id);
      if (held || Date.now() >= deadline || this.stopping) break;
      await sleep(Math.min(LOCK_RETRY_MS, Math.max(0, deadline - Date.now())));
    }
    if (!held) {
      this.metrics.lockBusy.inc();
      return { started: false, holder: await this.lock.holder() };
    }
    const record: RunRecord = {
      _id: id,
      mode,
      trigger,
      status: 'running',
      tenantId: mode === 'full' ? tenantId : null,
      startedAt: new Date(),
      endedAt: null,
      durationMs: null,
      eventsRead: 0,
      invalidEvents: 0,
      alreadyCounted: 0,
      tenants: {},
      warnings: [],
      phases: {},
    };
    const lock = held;
    let markEnded!: () => void;
    const ended = new Promise<void>((r) => (markEnded = r));
    const run = this.execute(record, lock, markEnded).finally(() => {
      markEnded();
      void lock.release();
      if (this.active === run) this.active = undefined;
    });
    this.active = run;
    this.activeEnded = ended;
    return { started: true, run: record, done: false };
  }

  /** Calls dropped beyond ANALYZER_MAX_STEPS_PER_SESSION by the sessions this run closed: on the record, a metric, the log. */
  private noteDroppedSteps(record: RunRecord, touched: Set<string>): void {
    for (const { state } of this.states.cachedTenants()) {
      if (!touched.has(state.tenantId)) continue;
      const dropped = state.takeDroppedSteps();
      if (dropped === 0) continue;
      this.share(record, state.tenantId).droppedSteps = dropped;
      this.metrics.stepsDropped.inc(dropped);
      const warning = `${state.tenantId}: ${dropped} calls beyond ANALYZER_MAX_STEPS_PER_SESSION (${this.config.ANALYZER_MAX_STEPS_PER_SESSION}) in one session were not mined`;
      record.warnings.push(warning);
      this.log.warn(`run ${record._id}: ${warning}`);
    }
  }

  /** Runs, stores the record, calls `ended`, then compacts what is due (still holding the lock). */
  private async execute(record: RunRecord, lock: HeldLock, ended: () => void): Promise<RunRecord> {
    const started = performance.now();
    const touched = new Set<string>();
    try {
      await this.runs.insert(record);
      this.log.log(`run ${record._id} (${record.mode}, ${record.trigger}) started`);
      await this.incremental(record, lock, touched);
      if (record.mode === 'full' && record.tenantId) {
        const t0 = performance.now();
        await this.rebuild(record, lock, record.tenantId);
        addPhase(record, 'rebuild', t0);
        touched.add(record.tenantId);
      }
      const t0 = performance.now();
      await this.afterRun(record, touched);
      addPhase(record, 'after', t0);
      this.noteDroppedSteps(record, touched);
      record.status = 'completed';
    } catch (err) {
      record.status = 'failed';
      record.error = (err as Error).message;
      this.log.error(`run ${record._id} failed: ${record.error}`);
    }
    record.endedAt = new Date();
    record.durationMs = Math.round(performance.now() - started);
    this.metrics.runs.inc({ mode: record.mode, status: record.status });
    this.metrics.runSeconds.observe({ mode: record.mode }, record.durationMs / 1000);
    await this.runs.save(record).catch((err) => this.log.warn(`could not store run ${record._id}: ${(err as Error).message}`));
    this.log.log(
      `run ${record._id} ${record.status} in ${record.durationMs} ms: ${record.eventsRead} events read, ${record.invalidEvents} invalid, ` +
        `${record.alreadyCounted} already counted, ${Object.keys(record.tenants).length} tenants; ms by phase ${JSON.stringify(record.phases)}`,
    );
    ended();
    await this.compactDue(record, record.status === 'completed' ? touched : new Set(), lock);
    await this.pruneRuns();
    return record;
  }

  /**
   * Folds journals that have grown past ANALYZER_COMPACT_RATIO into new snapshots and deletes the
   * blobs the run superseded. The run's own persists defer both so that a run costs what its new
   * events cost; they happen here, after the run has answered, still under the lock (the next run
   * waits for them). Failures only delay them.
   */
  private async compactDue(record: RunRecord, touched: Set<string>, lock: HeldLock): Promise<void> {
    for (const tenantId of touched) {
      if (lock.lost || this.stopping) break;
      const entry = this.states.cached(tenantId);
      if (!entry) continue;
      const t0 = performance.now();
      try {
        if (await this.stateRepo.compactIfDue(entry.state)) {
          this.log.log(`run ${record._id}: compacted ${tenantId}'s journal into a new snapshot in ${Math.round(performance.now() - t0)} ms`);
        }
      } catch (err) {
        this.states.evict(tenantId);
        this.log.warn(`run ${record._id}: compaction of ${tenantId} failed, retried after the next run: ${(err as Error).message}`);
      }
    }
    await this.stateRepo.collectGarbage();
  }

  private share(record: RunRecord, tenantId: string): TenantShare {
    return (record.tenants[tenantId] ??= emptyShare());
  }

  private async incremental(record: RunRecord, lock: HeldLock, touched: Set<string>): Promise<void> {
    const c = this.config;
    const prepareStarted = performance.now();
    let cursor = await this.stateRepo.readCursor(c.TOOLPATH_EVENTS_STREAM);
    let pos = await this.reader.prepare(cursor.streamWatermark);
    if (cursor.streamCreated !== null && cursor.streamCreated !== pos.created) {
      record.warnings.push(`stream ${c.TOOLPATH_EVENTS_STREAM} was re-created: watermarks reset to 0`);
      this.log.warn(`stream ${c.TOOLPATH_EVENTS_STREAM} was re-created (${cursor.streamCreated} → ${pos.created}); watermarks reset`);
      await this.stateRepo.resetWatermarks();
      this.states.evictAll();
      cursor = await this.stateRepo.writeCursor(cursor, 0, record._id, pos.created);
      await this.reader.reset();
      pos = await this.reader.prepare(0);
    } else if (cursor.streamCreated === null) {
      cursor = await this.stateRepo.writeCursor(cursor, cursor.streamWatermark, cursor.lastRunId, pos.created);
    }
    if (cursor.streamWatermark > 0 && pos.firstSeq > cursor.streamWatermark + 1) {
      const lost = pos.firstSeq - cursor.streamWatermark - 1;
      this.metrics.eventsExpired.inc(lost);
      record.warnings.push(`${lost} events aged out of the stream before they were analysed; a full rebuild reads them from the store`);
    }
    addPhase(record, 'prepare', prepareStarted);
    // Bounded by what was pending at the start, so a busy stream cannot keep one run going forever.
    let budget = pos.pending;
    this.vouchedClock = undefined;
    while (budget > 0 && !this.stopping) {
      if (lock.lost) throw new Error('the run lock was lost (expired or taken); stopping before writing more');
      const readStarted = performance.now();
      const msgs = await this.reader.take(Math.min(c.ANALYZER_PERSIST_EVERY, budget), c.ANALYZER_FETCH_BATCH);
      addPhase(record, 'read', readStarted);
      if (msgs.length === 0) break;
      budget -= msgs.length;
      cursor = await this.step(record, msgs, cursor, touched);
      this.log.log(`run ${record._id}: ${record.eventsRead} events read, ${budget > 0 ? `${budget} to go` : 'caught up'}`);
    }
    // Everything stored before the server's time at the start has been read: no arrival still to
    // come is earlier, so sessions over by then can close (a session_end's grace, idle sessions).
    if (!this.stopping) this.vouchedClock = pos.serverTime;
    const quietStarted = performance.now();
    await this.closeDueTenants(record, touched);
    await this.closeQuietTenants(record, touched);
    addPhase(record, 'quiet', quietStarted);
  }

  /** One persist step: decode, assemble and count, persist every touched tenant, move the cursor, ack. */
  private async step(record: RunRecord, msgs: JsMsg[], cursor: StreamCursor, touched: Set<string>): Promise<StreamCursor> {
    const c = this.config;
    let t0 = performance.now();
    const byTenant = new Map<string, MiningEvent[]>();
    // The arrival clock at the end of the step: every later message is stamped at or after it.
    let stepClock = -Infinity;
    for (const m of msgs) {
      const arrivedAt = arrivalMillis(m.info.timestampNanos);
      if (arrivedAt !== undefined && arrivedAt > stepClock) stepClock = arrivedAt;
      const d = decodeStreamEvent({ data: m.data, subject: m.subject, streamSeq: m.seq, arrivedAt }, c.TOOLPATH_SUBJECT_PREFIX, c.ANALYZER_MAX_RESULT_BYTES);
      const ofTenant = d.ok ? d.event.tenantId : d.tenantId;
      const tenantShare = ofTenant !== null ? this.share(record, ofTenant) : undefined;
      if (tenantShare) tenantShare.read = (tenantShare.read ?? 0) + 1;
      if (!d.ok) {
        record.invalidEvents++;
        if (tenantShare) tenantShare.invalid = (tenantShare.invalid ?? 0) + 1;
        this.metrics.eventsInvalid.inc();
        continue;
      }
      let list = byTenant.get(d.event.tenantId);
      if (!list) byTenant.set(d.event.tenantId, (list = []));
      list.push(d.event);
    }
    t0 = addPhase(record, 'decode', t0);
    const now = Date.now();
    const bySeq = new Map<number, JsMsg>();
    for (const m of msgs) bySeq.set(m.seq, m);
    // Tenant by tenant, each persisted on its own: one tenant's failure never holds back another's.
    for (const [tenantId, events] of byTenant) {
      const step: TenantStep = { record, tenantId, stepClock, now, touched, bySeq };
      try {
        await this.countTenant(step, events, stepClock);
      } catch (err) {
        // The database away: the run fails before the ack and the next run re-reads the step
        // (persisted tenants skip it by their watermark). Nothing is dead-lettered for an outage.
        if (await this.failsTheRun(err)) throw err;
        this.metrics.processingFailures.inc();
        record.warnings.push(`${tenantId}: counting ${events.length} events failed (${(err as Error).message}); isolating the events that fail`);
        this.log.warn(`run ${record._id}: counting ${events.length} events of ${tenantId} failed with the database answering, isolating: ${(err as Error).message}`);
        const broken = await this.tenantBroken(step);
        if (broken) await this.deadLetterAll(step, events, broken);
        else await this.countInParts(step, events, true);
      }
    }
    t0 = performance.now();
    const last = msgs[msgs.length - 1];
    const next = await this.stateRepo.writeCursor(cursor, last.seq, record._id);
    await this.reader.ackThrough(last);
    addPhase(record, 'ack', t0);
    record.eventsRead += msgs.length;
    this.metrics.eventsRead.inc(msgs.length);
    return next;
  }

  /**
   * Counts events of one tenant (in stream order) and persists the tenant: its watermark moves
   * past them only together with what they changed. `closeAt`: the arrival-clock time sessions
   * may close at (the step's clock for the tenant's last events; undefined = the tenant's own
   * clock, for a part of them). On any failure the cached state is evicted (it may be ahead of the
   * store) and the error rethrown.
   */
  private async countTenant(step: TenantStep, events: MiningEvent[], closeAt: number | undefined, forcePersist = false): Promise<void> {
    const { record, tenantId, now, touched } = step;
    let t0 = performance.now();
    try {
      const { state } = await this.states.forRun(tenantId);
      this.injectFault(state, events);
      const r = state.addEvents(events, now);
      const closed = state.closeSessions(closeAt === undefined ? state.arrivalClock : Math.max(state.arrivalClock, closeAt));
      t0 = addPhase(record, 'count', t0);
      if (events.length === 0 && closed === 0 && !forcePersist) return;
      await this.stateRepo.persist(state, { deferCompaction: true });
      addPhase(record, 'persist', t0);
      const share = this.share(record, tenantId);
      share.events += r.added;
      share.sessionsClosed += closed;
      share.alreadyCounted = (share.alreadyCounted ?? 0) + r.alreadyCounted;
      share.invalid = (share.invalid ?? 0) + r.invalid;
      record.alreadyCounted += r.alreadyCounted;
      record.invalidEvents += r.invalid;
      this.metrics.eventsAlreadyCounted.inc(r.alreadyCounted);
      this.metrics.eventsInvalid.inc(r.invalid);
      this.metrics.sessionsClosed.inc(closed);
      touched.add(tenantId);
    } catch (err) {
      this.states.evict(tenantId);
      throw err;
    }
  }

  /**
   * Whether an error ends the run instead of being put down to the events at hand: the database
   * away (`isStoreOutage`: a connection-level error, or a ping plus a one-row read failing right
   * after it), or another writer having moved the tenant's state (a lost race). The next run then
   * re-reads the step; nothing is dead-lettered for either.
   */
  private async failsTheRun(err: unknown): Promise<boolean> {
    return err instanceof StateConflictError || (await isStoreOutage(err, this.connection.db!));
  }

  /**
   * The test-only fault hook (TOOLPATH_FAULT_POISON_TOOL, unset in production): counting an event
   * of that tool throws, as a poison message would. Events already counted are skipped first,
   * exactly as counting skips them.
   */
  private injectFault(state: TenantLearning, events: MiningEvent[]): void {
    const poison = this.config.TOOLPATH_FAULT_POISON_TOOL;
    if (poison === undefined) return;
    const hit = events.find((e) => e.tool === poison && !(e.streamSeq !== 0 && e.streamSeq <= state.watermark));
    if (hit) throw new Error(`fault injected by TOOLPATH_FAULT_POISON_TOOL counting stream message ${hit.streamSeq} (tool "${poison}")`);
  }

  /**
   * Whether the tenant itself fails, whatever its events: loading and persisting it with no event
   * (ANALYZER_PROCESSING_ATTEMPTS tries). Returns the last error then, undefined when it works;
   * only then are its events split to find the ones that fail (splitting a tenant that fails on
   * its own would try every event alone).
   */
  private async tenantBroken(step: TenantStep): Promise<Error | undefined> {
    return this.withAttempts(() => this.countTenant(step, [], undefined, true));
  }

  /**
   * Runs `work` up to ANALYZER_PROCESSING_ATTEMPTS times while it fails with the database
   * answering (a short growing pause between tries). Undefined when a try worked, else the last
   * error; an outage or a lost state race is rethrown at once (it fails the run instead).
   */
  private async withAttempts(work: () => Promise<void>): Promise<Error | undefined> {
    const max = this.config.ANALYZER_PROCESSING_ATTEMPTS;
    let last: Error | undefined;
    for (let attempt = 1; attempt <= max; attempt++) {
      try {
        await work();
        return undefined;
      } catch (err) {
        if (await this.failsTheRun(err)) throw err;
        this.metrics.processingFailures.inc();
        last = err as Error;
        if (attempt < max) await sleep(50 * attempt);
      }
    }
    return last;
  }

  /** A tenant whose state cannot be loaded or persisted: the step's events of it are dead-lettered at once (a full rebuild recovers them). */
  private async deadLetterAll(step: TenantStep, events: MiningEvent[], err: Error): Promise<void> {
    const cause = new Error(`${step.tenantId}'s state could not be loaded or persisted: ${err.message}`);
    await this.deadLetter(step, events, cause, this.config.ANALYZER_PROCESSING_ATTEMPTS);
  }

  /**
   * Finds the events of a tenant's failed step that fail, by halves: each half that counts is
   * persisted (its watermark moves past it), each that fails is split again, and an event failing
   * alone gets ANALYZER_PROCESSING_ATTEMPTS tries before it is dead-lettered. Halves go in stream
   * order, so the watermark only moves forward and every event is counted once or dead-lettered.
   * Costs one persist per half tried: about 2·log2(n) per failing event, and only after a failure.
   */
  private async countInParts(step: TenantStep, events: MiningEvent[], tail: boolean): Promise<void> {
    if (events.length === 1) return this.countAlone(step, events[0], tail);
    const mid = events.length >> 1;
    const halves: Array<[MiningEvent[], boolean]> = [
      [events.slice(0, mid), false],
      [events.slice(mid), tail],
    ];
    for (const [half, isTail] of halves) {
      try {
        await this.countTenant(step, half, isTail ? step.stepClock : undefined);
      } catch (err) {
        if (await this.failsTheRun(err)) throw err;
        this.metrics.processingFailures.inc();
        await this.countInParts(step, half, isTail);
      }
    }
  }

  private async countAlone(step: TenantStep, event: MiningEvent, tail: boolean): Promise<void> {
    const failure = await this.withAttempts(() => this.countTenant(step, [event], tail ? step.stepClock : undefined));
    if (!failure) return;
    await this.deadLetter(step, [event], failure, this.config.ANALYZER_PROCESSING_ATTEMPTS);
    if (!tail) return;
    // The dead-lettered event was the tenant's last of the step: close what the step's clock closes.
    await this.countTenant(step, [], step.stepClock).catch(async (err) => {
      if (await this.failsTheRun(err)) throw err;
      step.record.warnings.push(`${step.tenantId}: closing sessions after a dead letter failed (${(err as Error).message}); retried at the next step`);
    });
  }

  /**
   * Writes the dead letters of events the analyzer cannot count through the recorder's writer of
   * `rejected_events` (`_id` `<stream>:<seq>:analyzer`, idempotent: a re-read step writes it once).
   * The events themselves are in `tool_events` (the recorder stored them): a full rebuild counts them again.
   */
  private async deadLetter(step: TenantStep, events: MiningEvent[], err: Error, attempts: number): Promise<void> {
    const { record, tenantId, bySeq } = step;
    const c = this.config;
    const message = `counting the event failed ${attempts} times: ${err.message}`.replaceAll('\u0000', '\uFFFD');
    const dead = events.map((event): RejectedEvent => {
      const msg = bySeq.get(event.streamSeq);
      const raw = msg ? Buffer.from(msg.data) : Buffer.alloc(0);
      let eventId: string | null = null;
      try {
        const body = JSON.parse(raw.toString('utf8')) as { eventId?: unknown };
        if (typeof body?.eventId === 'string') eventId = body.eventId.replaceAll('\u0000', '\uFFFD');
      } catch {
        // The bytes are kept whatever they hold.
      }
      return {
        _id: `${c.TOOLPATH_EVENTS_STREAM}:${event.streamSeq}:analyzer`,
        tenantId,
        subject: msg?.subject ?? eventsSubject(c.TOOLPATH_SUBJECT_PREFIX, tenantId),
        reason: RejectReason.ProcessingFailed,
        field: '(processing)',
        message,
        issues: [{ field: '(processing)', message }],
        eventId,
        raw,
        receivedAt: new Date(event.arrivedAt ?? Date.now()),
        streamSeq: event.streamSeq,
        consumer: 'analyzer',
        attempts,
      };
    });
    await this.deadLetters.insertRejected(dead);
    const share = this.share(record, tenantId);
    share.deadLettered = (share.deadLettered ?? 0) + dead.length;
    this.metrics.deadLettered.inc({ reason: RejectReason.ProcessingFailed }, dead.length);
    const which = events.length === 1 ? `stream message ${events[0].streamSeq}` : `${events.length} messages (${events[0].streamSeq}..${events[events.length - 1].streamSeq})`;
    record.warnings.push(`${tenantId}: ${which} dead-lettered after ${attempts} tries: ${err.message}`);
    this.log.error(`run ${record._id}: ${which} of ${tenantId} dead-lettered after ${attempts} tries: ${err.message}`);
  }

  /**
   * One tenant failing to close its sessions (with the database answering) is noted and left for
   * the next run; the other tenants go on. An outage fails the run as before.
   */
  private async forEachTenant(record: RunRecord, tenants: Iterable<string>, what: string, body: (tenantId: string) => Promise<void>): Promise<void> {
    for (const tenantId of tenants) {
      try {
        await body(tenantId);
      } catch (err) {
        if (await this.failsTheRun(err)) throw err;
        this.states.evict(tenantId);
        this.metrics.processingFailures.inc();
        record.warnings.push(`${tenantId}: ${what} failed (${(err as Error).message}); retried at the next run`);
        this.log.warn(`run ${record._id}: ${what} of ${tenantId} failed, retried at the next run: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Sessions over by the server time this run started at (`vouchedClock`): a tenant without
   * later events has nothing else to move its arrival clock past its sessions' grace or idle
   * window. Cached tenants are checked in memory, the others by their stored next closing time.
   */
  private async closeDueTenants(record: RunRecord, touched: Set<string>): Promise<void> {
    const clock = this.vouchedClock;
    if (clock === undefined) return;
    const candidates = new Set(await this.stateRepo.tenantsDueAt(clock));
    for (const e of this.states.cachedTenants()) {
      const next = e.state.assembler.nextCloseAt();
      if (next !== undefined && next <= clock) candidates.add(e.state.tenantId);
    }
    await this.forEachTenant(record, candidates, 'closing sessions due', async (tenantId) => {
      const { state } = await this.states.forRun(tenantId);
      await this.persistClosed(record, touched, state, state.closeSessions(Math.max(state.arrivalClock, clock)));
    });
  }

  /** Persists a tenant after `closed` of its sessions closed outside a step, and counts them in the run. */
  private async persistClosed(record: RunRecord, touched: Set<string>, state: TenantLearning, closed: number): Promise<void> {
    if (closed === 0) return;
    try {
      await this.stateRepo.persist(state, { deferCompaction: true });
    } catch (err) {
      this.states.evict(state.tenantId);
      throw err;
    }
    this.share(record, state.tenantId).sessionsClosed += closed;
    this.metrics.sessionsClosed.inc(closed);
    touched.add(state.tenantId);
  }

  /**
   * The fallback on the wall clock: a tenant that has gone quiet has no later events to move its
   * arrival clock, so once nothing has arrived for it for the idle window, all its open sessions close.
   */
  private async closeQuietTenants(record: RunRecord, touched: Set<string>): Promise<void> {
    const before = Date.now() - this.config.ANALYZER_SESSION_IDLE_MS;
    const candidates = new Set(await this.stateRepo.quietTenants(before));
    for (const e of this.states.cachedTenants()) {
      if (e.state.openSessionCount() > 0 && e.state.lastArrivalAt < before) candidates.add(e.state.tenantId);
    }
    await this.forEachTenant(record, candidates, 'closing quiet sessions', async (tenantId) => {
      const { state } = await this.states.forRun(tenantId);
      if (state.openSessionCount() === 0 || state.lastArrivalAt >= before) return;
      await this.persistClosed(record, touched, state, state.closeSessions(CLOSE_ALL));
    });
  }

  private async rebuild(record: RunRecord, lock: HeldLock, tenantId: string): Promise<void> {
    const c = this.config;
    const cursor = await this.stateRepo.readCursor(c.TOOLPATH_EVENTS_STREAM);
    await this.waitForRecorder(record, cursor.streamWatermark);
    const previous = (await this.states.forRun(tenantId)).state;
    const fresh = TenantLearning.fresh(tenantId, this.states.options);
    fresh.meta = previous.meta;
    fresh.promoted = previous.promoted;
    const share = this.share(record, tenantId);
    share.events = 0;
    share.sessionsClosed = 0;
    let batch: MiningEvent[] = [];
    let maxReceivedAt = 0;
    // Rows in arrival order close sessions exactly as the stream did: the same arrival clock.
    const flush = () => {
      const r = fresh.addEvents(batch, 0, false);
      record.invalidEvents += r.invalid;
      share.invalid = (share.invalid ?? 0) + r.invalid;
      share.events += r.added;
      share.sessionsClosed += fresh.closeSessions();
      // The rebuild is persisted as a snapshot: its sessions need no journal.
      fresh.unpersisted = [];
      batch = [];
    };
    // Arrival order: the stream's (rows stored without a stream sequence first, by arrival).
    const rows = this.storedEvents.inArrivalOrder(tenantId, REBUILD_BATCH);
    for await (const row of rows) {
      record.eventsRead++;
      share.read = (share.read ?? 0) + 1;
      // Later rows reach this tenant through the stream, after the cursor: counting them here too would count them twice.
      if ((row.streamSeq ?? 0) > cursor.streamWatermark) continue;
      batch.push(miningEventFromRow(row, c.ANALYZER_MAX_RESULT_BYTES));
      if (row.receivedAt && row.receivedAt.getTime() > maxReceivedAt) maxReceivedAt = row.receivedAt.getTime();
      if (batch.length >= REBUILD_BATCH) {
        flush();
        if (lock.lost) throw new Error('the run lock was lost during the rebuild');
        if (record.eventsRead % (REBUILD_BATCH * 20) === 0) this.log.log(`run ${record._id}: rebuild of ${tenantId} read ${record.eventsRead} rows`);
      }
    }
    flush();
    this.metrics.eventsRead.inc(record.eventsRead);
    fresh.watermark = cursor.streamWatermark;
    fresh.lastArrivalAt = maxReceivedAt;
    if (Date.now() - maxReceivedAt >= c.ANALYZER_SESSION_IDLE_MS) {
      share.sessionsClosed += fresh.closeSessions(CLOSE_ALL);
      fresh.unpersisted = [];
    } else if (this.vouchedClock !== undefined) {
      // What the incremental part of this run closed at the server's time, the rebuild closes too.
      share.sessionsClosed += fresh.closeSessions(Math.max(fresh.arrivalClock, this.vouchedClock));
      fresh.unpersisted = [];
    }
    await this.stateRepo.persist(fresh, { snapshot: true, fullRunId: record._id });
    const entry = this.states.install(fresh);
    // Rows of patterns this rebuild no longer lists must go: read the stored ids once.
    entry.written = undefined;
    this.metrics.sessionsClosed.inc(share.sessionsClosed);
  }

  /** Rows up to the cursor should be in the store before a rebuild reads it (the recorder acks after writing). */
  private async waitForRecorder(record: RunRecord, streamWatermark: number): Promise<void> {
    const deadline = Date.now() + RECORDER_CATCH_UP_MS;
    const jsm = await this.reader.manager();
    for (;;) {
      const floor = await jsm.consumers
        .info(this.config.TOOLPATH_EVENTS_STREAM, RECORDER_CONSUMER)
        .then((i) => i.ack_floor.stream_seq)
        .catch(() => undefined);
      if (floor === undefined) {
        record.warnings.push('no recorder consumer found: the rebuild reads what the store has');
        return;
      }
      if (floor >= streamWatermark) return;
      if (Date.now() > deadline) {
        record.warnings.push(`the recorder had stored up to ${floor} of ${streamWatermark}: events in between are counted at the next rebuild`);
        return;
      }
      await sleep(100);
    }
  }

  private async afterRun(record: RunRecord, touched: Set<string>): Promise<void> {
    let listedTotal = 0;
    for (const tenantId of touched) {
      const entry = this.states.cached(tenantId);
      if (!entry) continue;
      const listed = entry.views.patterns();
      const res = await this.patternRows.sync(tenantId, listed, entry.views, entry.state.promoted, entry.written);
      entry.written = res.written;
      const share = this.share(record, tenantId);
      share.patterns = listed.length;
      share.patternsChanged = res.changed + res.removed;
      this.metrics.patternsWritten.inc(res.changed);
      if (res.failed > 0) record.warnings.push(`${res.failed} pattern rows of ${tenantId} were refused by the database`);
      if (this.config.ANALYZER_AUTO_PROMOTE) this.promoter.consider(tenantId, listed, entry.state.promoted);
      await this.suggestions.refresh(tenantId).catch((err) => this.log.warn(`suggestion index of ${tenantId} not rebuilt: ${(err as Error).message}`));
    }
    for (const e of this.states.cachedTenants()) listedTotal += e.views.patterns().length;
    this.metrics.patterns.set(listedTotal);
  }

  private async pruneRuns(): Promise<void> {
    if (Date.now() - this.lastPrune < 3600_000) return;
    this.lastPrune = Date.now();
    const before = new Date(Date.now() - this.config.ANALYZER_RUNS_RETENTION_HOURS * 3600_000);
    await this.runs.prune(before).catch((err) => this.log.warn(`pruning runs failed: ${(err as Error).message}`));
  }
}

/** Adds the time since `since` to a phase of the run; returns now (the next phase's start). */
function addPhase(record: RunRecord, phase: string, since: number): number {
  const now = performance.now();
  const phases = (record.phases ??= {});
  phases[phase] = Math.round(((phases[phase] ?? 0) + (now - since)) * 10) / 10;
  return now;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for `work` to settle, at most `ms`; the timer goes with it (none left behind once the work is done). */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
