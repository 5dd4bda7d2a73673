import type { LogRecord } from './log-record';

/** XES lifecycle transitions that end an activity unsuccessfully. */
const ABORT_TRANSITIONS = new Set(['ate_abort', 'pi_abort', 'withdraw']);
/** Transitions that neither start nor end an activity (scheduling, pauses, skips): not tool calls. */
const IGNORED_TRANSITIONS = new Set(['schedule', 'assign', 'reassign', 'suspend', 'resume', 'autoskip', 'manualskip', 'unknown']);

interface PendingCall {
  record: LogRecord;
  open: boolean;
}

export type TransitionResult = 'accepted' | 'ignored';

/**
 * Pairs XES `start` and `complete` (or abort) events of one trace into single calls with a
 * duration, and hands them on in the order they started. A call waits while an earlier one is
 * still open, so memory is bounded by `maxPending`; past it the oldest open call is given up as
 * never completed. Events without a transition count as `complete`.
 */
export class LifecyclePairing {
  private queue: PendingCall[] = [];
  private head = 0;

  constructor(private readonly maxPending = 10_000) {}

  /** Adds one event; calls that are now settled (in start order) are pushed onto `ready`. */
  add(record: LogRecord, transition: string | undefined, ready: LogRecord[]): TransitionResult {
    const t = transition?.trim().toLowerCase() || 'complete';
    if (IGNORED_TRANSITIONS.has(t)) return 'ignored';
    if (t === 'start') {
      this.queue.push({ record, open: true });
      if (this.queue.length - this.head > this.maxPending) this.giveUpOldest();
    } else {
      const aborted = ABORT_TRANSITIONS.has(t);
      const pending = this.findOpen(record.activity);
      if (pending) {
        pending.open = false;
        pending.record = merge(pending.record, record, aborted ? t : undefined);
      } else {
        if (aborted) {
          record.success = false;
          record.error ??= t;
        }
        this.queue.push({ record, open: false });
      }
    }
    this.release(ready);
    return 'accepted';
  }

  /** Ends the trace: calls still open are handed on as failed, never completed. */
  finish(ready: LogRecord[]): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const pending = this.queue[i];
      if (pending.open) closeUnfinished(pending);
    }
    this.release(ready);
    this.queue = [];
    this.head = 0;
  }

  private findOpen(activity: string): PendingCall | undefined {
    for (let i = this.head; i < this.queue.length; i++) {
      const pending = this.queue[i];
      if (pending.open && pending.record.activity === activity) return pending;
    }
    return undefined;
  }

  private giveUpOldest(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      if (this.queue[i].open) {
        closeUnfinished(this.queue[i]);
        return;
      }
    }
  }

  private release(ready: LogRecord[]): void {
    while (this.head < this.queue.length && !this.queue[this.head].open) {
      ready.push(this.queue[this.head].record);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

function closeUnfinished(pending: PendingCall): void {
  pending.open = false;
  pending.record.success = false;
  pending.record.error ??= 'started but never completed';
}

/** The call as a whole: when the start said, as long as it took, how the end said it went. */
function merge(start: LogRecord, end: LogRecord, abortedBy: string | undefined): LogRecord {
  const merged: LogRecord = { ...start, durationMs: Math.max(0, end.startMs - start.startMs) };
  if (end.resource !== undefined) merged.resource = end.resource;
  if (end.intent !== undefined) merged.intent = end.intent;
  if (start.attributes || end.attributes) merged.attributes = { ...start.attributes, ...end.attributes };
  if (abortedBy) {
    merged.success = false;
    merged.error = end.error ?? abortedBy;
  } else if (end.success !== undefined) {
    merged.success = end.success;
    if (end.error !== undefined) merged.error = end.error;
  }
  return merged;
}
