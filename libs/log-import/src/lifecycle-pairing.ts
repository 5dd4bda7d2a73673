import type { LogRecord } from './log-record';

/** XES lifecycle transitions that end an activity without completing it. */
const ABORT_TRANSITIONS = new Set(['ate_abort', 'pi_abort', 'withdraw']);
/** Transitions that neither start nor end an activity (scheduling, pauses, skips): not tool calls. */
const IGNORED_TRANSITIONS = new Set(['schedule', 'assign', 'reassign', 'suspend', 'resume', 'autoskip', 'manualskip', 'unknown']);
/** XES attribute telling two instances of the same activity apart (pm4py pairs on it too). */
const INSTANCE_KEY = 'concept:instance';

interface PendingCall {
  record: LogRecord;
  open: boolean;
  /** Activity (and instance) a `complete` must name to end this call. */
  key: string;
  /** Set when the call will never complete (aborted, never completed): why it is not imported. */
  notCompleted?: string;
  /** Order in which calls were settled: the last tie-break, as in the log. */
  settledOrder: number;
}

export type TransitionResult = 'accepted' | 'ignored';

/** A started activity that never completed: not a call (see LifecyclePairing), reported as a skip. */
export interface NotCompleted {
  record: LogRecord;
  reason: string;
}

/**
 * Pairs XES `start` and `complete` events of one trace into single calls with a duration: the
 * process-mining **interval view** (what pm4py's `interval_lifecycle.to_interval` gives), so a
 * directly-follows graph of the imported sessions equals pm4py's. A `complete` ends the oldest
 * open `start` of the same activity (and `concept:instance`, when given); a `complete` without a
 * start is an activity of its own, with no duration. A start that is aborted (`ate_abort`,
 * `pi_abort`, `withdraw`) or never completed is not a call; it is handed to `notCompleted` so the
 * importer reports and counts it. Calls are handed on in the order they started, calls that
 * started at the same time in the order they ended (then as the log settled them). A call waits
 * while an earlier one is still open, so memory is bounded by `maxPending`; past it the oldest
 * open call is given up as never completed. Events without a transition count as `complete`.
 */
export class LifecyclePairing {
  private queue: PendingCall[] = [];
  private head = 0;
  private settled = 0;

  constructor(private readonly maxPending = 10_000) {}

  /** Adds one event; what is now settled (in start order) goes to `ready` or `notCompleted`. */
  add(record: LogRecord, transition: string | undefined, ready: LogRecord[], notCompleted: NotCompleted[]): TransitionResult {
    const t = transition?.trim().toLowerCase() || 'complete';
    if (IGNORED_TRANSITIONS.has(t)) return 'ignored';
    const key = keyOf(record);
    if (t === 'start') {
      this.queue.push({ record, open: true, key, settledOrder: 0 });
      if (this.queue.length - this.head > this.maxPending) this.giveUpOldest();
    } else if (ABORT_TRANSITIONS.has(t)) {
      const pending = this.findOpen(key);
      // An abort without a start ends nothing: like a schedule, it is no activity.
      if (!pending) return 'ignored';
      this.settle(pending, `aborted (${t})`);
    } else {
      const pending = this.findOpen(key);
      if (pending) {
        pending.record = merge(pending.record, record);
        this.settle(pending);
      } else {
        this.queue.push({ record, open: false, key, settledOrder: ++this.settled });
      }
    }
    this.release(ready, notCompleted);
    return 'accepted';
  }

  /** Ends the trace: calls still open never completed. */
  finish(ready: LogRecord[], notCompleted: NotCompleted[]): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const pending = this.queue[i];
      if (pending.open) this.settle(pending, 'started but never completed');
    }
    this.release(ready, notCompleted);
    this.queue = [];
    this.head = 0;
  }

  private settle(pending: PendingCall, notCompleted?: string): void {
    pending.open = false;
    pending.settledOrder = ++this.settled;
    if (notCompleted !== undefined) pending.notCompleted = notCompleted;
  }

  private findOpen(key: string): PendingCall | undefined {
    for (let i = this.head; i < this.queue.length; i++) {
      const pending = this.queue[i];
      if (pending.open && pending.key === key) return pending;
    }
    return undefined;
  }

  private giveUpOldest(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      if (this.queue[i].open) {
        this.settle(this.queue[i], `started but never completed (more than ${this.maxPending} activities open)`);
        return;
      }
    }
  }

  /** Hands on the settled calls at the head: each run of calls that started at the same time once all of it is settled. */
  private release(ready: LogRecord[], notCompleted: NotCompleted[]): void {
    while (this.head < this.queue.length) {
      const startMs = this.queue[this.head].record.startMs;
      let end = this.head;
      while (end < this.queue.length && this.queue[end].record.startMs === startMs) {
        if (this.queue[end].open) return;
        end++;
      }
      const run = this.queue.slice(this.head, end);
      if (run.length > 1) run.sort((a, b) => endOf(a) - endOf(b) || a.settledOrder - b.settledOrder);
      for (const p of run) {
        if (p.notCompleted === undefined) ready.push(p.record);
        else notCompleted.push({ record: p.record, reason: p.notCompleted });
      }
      this.head = end;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

function keyOf(record: LogRecord): string {
  const instance = record.attributes?.[INSTANCE_KEY];
  return instance === undefined || instance === null ? record.activity : `${record.activity}\u0000${String(instance)}`;
}

function endOf(p: PendingCall): number {
  return p.record.startMs + p.record.durationMs;
}

/** The call as a whole: when the start said, as long as it took, how the end said it went. */
function merge(start: LogRecord, end: LogRecord): LogRecord {
  const merged: LogRecord = { ...start, durationMs: Math.max(0, end.startMs - start.startMs) };
  if (end.resource !== undefined) merged.resource = end.resource;
  if (end.intent !== undefined) merged.intent = end.intent;
  if (start.attributes || end.attributes) merged.attributes = { ...start.attributes, ...end.attributes };
  if (end.success !== undefined) {
    merged.success = end.success;
    if (end.error !== undefined) merged.error = end.error;
  }
  return merged;
}
