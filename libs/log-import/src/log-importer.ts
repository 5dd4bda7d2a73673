import { EventTooLargeError, InvalidEventError } from '@toolpath/sdk';
import type { ToolEventInput } from '@toolpath/contracts';
import { CaseTracker, type CaseState } from './case-tracker';
import { EventMapper, type EventMapperOptions } from './event-mapper';
import type { EventSink } from './event-sink';
import type { LogItem, LogRecord, SkippedItem, SkipReason } from './log-record';
import { LogTruncatedError } from './column-mapping';

export interface ImportRunOptions extends EventMapperOptions {
  items: AsyncIterable<LogItem>;
  sink: EventSink;
  /** Stop after this many activities have been read (imported or skipped). */
  limit?: number;
  /** Called for every row, event or trace that is not imported. */
  onSkip?: (skip: SkippedItem) => void;
  /** Called about once per `progressIntervalMs` while the import runs. */
  onProgress?: (progress: ImportProgress) => void;
  progressIntervalMs?: number;
  /** Aborting stops reading; what was read is still sent, its cases ended, and summarised. */
  signal?: AbortSignal;
}

export interface ImportProgress {
  eventsRead: number;
  published: number;
  skipped: number;
  elapsedMs: number;
  /** Activities read per second since the start. */
  rate: number;
}

export interface ImportSummary {
  /** Activities read from the log: imported or skipped. */
  eventsRead: number;
  /** `tool_call` events accepted for publishing (one per imported activity). */
  toolCalls: number;
  /** `session_end` events accepted for publishing (one per case). */
  sessionEnds: number;
  /** Events the stream acknowledged (0 in a dry run); includes `duplicates`. */
  published: number;
  /** Acknowledged events the stream already held: imported before. */
  duplicates: number;
  /** Events accepted but never acknowledged. */
  dropped: number;
  /** Activities not imported, and by reason. */
  skipped: number;
  skippedByReason: Partial<Record<SkipReason, number>>;
  /** Cases with at least one imported activity. */
  cases: number;
  /** The import stopped at `limit`. */
  limited: boolean;
  /** The import stopped because `signal` was aborted. */
  interrupted: boolean;
  durationMs: number;
  /** Activities read per second. */
  eventsPerSecond: number;
  /** Largest V8 heap seen while importing. */
  peakHeapBytes: number;
  /** Why reading stopped before the end of the file (cut or damaged); undefined when it was read whole. */
  truncated?: string;
  /** Cases left without a `session_end` because reading stopped early (cut, limit, interrupt) while they were open. */
  casesLeftOpen?: number;
}

const HEAP_SAMPLE_EVERY = 4096;

/**
 * Reads a log's items and sends each activity as a `tool_call` and each case's end as a
 * `session_end`. Skips are counted and reported, never fatal; only the sink failing (the stream
 * no longer acknowledging) or the reader failing (not a log) ends the import early, by throwing.
 */
export async function runImport(opts: ImportRunOptions): Promise<ImportSummary> {
  const started = performance.now();
  const mapper = new EventMapper(opts);
  const cases = new CaseTracker();
  const sink = opts.sink;
  const summary: ImportSummary = {
    eventsRead: 0,
    toolCalls: 0,
    sessionEnds: 0,
    published: 0,
    duplicates: 0,
    dropped: 0,
    skipped: 0,
    skippedByReason: {},
    cases: 0,
    limited: false,
    interrupted: false,
    durationMs: 0,
    eventsPerSecond: 0,
    peakHeapBytes: process.memoryUsage().heapUsed,
  };
  const limit = opts.limit ?? Infinity;

  const elapsed = (): number => performance.now() - started;
  const sampleHeap = (): void => {
    const heap = process.memoryUsage().heapUsed;
    if (heap > summary.peakHeapBytes) summary.peakHeapBytes = heap;
  };
  const progress = (): ImportProgress => {
    const ms = elapsed();
    return {
      eventsRead: summary.eventsRead,
      published: sink.counts().published,
      skipped: summary.skipped,
      elapsedMs: ms,
      rate: ms > 0 ? (summary.eventsRead * 1000) / ms : 0,
    };
  };
  const timer = opts.onProgress
    ? setInterval(() => {
        sampleHeap();
        opts.onProgress!(progress());
      }, opts.progressIntervalMs ?? 1000)
    : undefined;
  timer?.unref();

  const skip = (item: SkippedItem): void => {
    const count = item.count ?? 1;
    summary.skipped += count;
    summary.skippedByReason[item.reason] = (summary.skippedByReason[item.reason] ?? 0) + count;
    opts.onSkip?.(item);
  };

  /*
   * Sending is synchronous unless the sink asks to wait (once per half window), so the per-event
   * path allocates no promise: `true` accepted, `false` refused (and reported as a skip of the
   * activity's line), or the promise to wait for.
   */
  const send = (event: ToolEventInput, line: number): boolean | Promise<void> => {
    try {
      return sink.send(event) ?? true;
    } catch (err) {
      if (err instanceof InvalidEventError) {
        skip({ line, reason: 'invalid_event', message: err.issues.map((i) => `${i.field}: ${i.message}`).join('; ') });
        return false;
      }
      if (err instanceof EventTooLargeError) {
        skip({ line, reason: 'too_large', message: err.message });
        return false;
      }
      throw err;
    }
  };

  const endCase = async (caseId: string, state: CaseState): Promise<void> => {
    if (state.calls === 0) return;
    summary.cases++;
    const sent = send(mapper.sessionEnd(caseId, state), 0);
    if (sent === false) return;
    summary.sessionEnds++;
    if (sent !== true) await sent;
  };

  const importRecord = (record: LogRecord): Promise<void> | undefined => {
    const state = cases.get(record.caseId);
    const seq = state.nextSeq++;
    if (state.intent === undefined && record.intent !== undefined) state.intent = record.intent;
    const sent = send(mapper.toolCall(record, seq, state), record.line);
    if (sent === false) return undefined;
    summary.toolCalls++;
    state.calls++;
    if (record.success === false) state.failed++;
    if (record.success !== undefined) state.outcomesKnown++;
    if (record.startMs < state.firstMs) state.firstMs = record.startMs;
    const end = record.startMs + record.durationMs;
    if (end > state.lastEndMs) state.lastEndMs = end;
    return sent === true ? undefined : sent;
  };

  try {
    for await (const item of untilCut(opts.items, summary)) {
      if (item.type === 'case_end') {
        const state = cases.close(item.caseId);
        if (state) await endCase(item.caseId, state);
        continue;
      }
      if (summary.eventsRead >= limit) {
        summary.limited = true;
        break;
      }
      if (opts.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      if (item.type === 'skip') {
        summary.eventsRead += item.skip.count ?? 1;
        if (item.skip.caseId !== undefined) cases.get(item.skip.caseId).nextSeq++;
        skip(item.skip);
        continue;
      }
      summary.eventsRead++;
      if (summary.eventsRead % HEAP_SAMPLE_EVERY === 0) sampleHeap();
      const wait = importRecord(item.record);
      if (wait) await wait;
    }
    if (summary.truncated === undefined && !summary.limited && !summary.interrupted) {
      for (const [caseId, state] of cases.closeAll()) await endCase(caseId, state);
    } else {
      // Reading stopped early (a cut file, --limit, Ctrl-C): a case still open may have more
      // activities in the rest of the file. Ending it now would publish a wrong session_end under
      // the id the whole file's import needs, and that import would then be refused it.
      summary.casesLeftOpen = 0;
      for (const [, state] of cases.closeAll()) if (state.calls > 0) summary.casesLeftOpen++;
    }
    await sink.finish();
  } finally {
    if (timer) clearInterval(timer);
  }
  sampleHeap();
  const counts = sink.counts();
  summary.published = counts.published;
  summary.duplicates = counts.duplicates;
  summary.dropped = counts.dropped;
  summary.durationMs = Math.round(elapsed());
  summary.eventsPerSecond = summary.durationMs > 0 ? Math.round((summary.eventsRead * 1000) / summary.durationMs) : summary.eventsRead;
  return summary;
}

/** The items up to a cut in the file, which is noted in the summary rather than thrown. */
async function* untilCut(items: AsyncIterable<LogItem>, summary: ImportSummary): AsyncGenerator<LogItem> {
  try {
    yield* items;
  } catch (err) {
    if (!(err instanceof LogTruncatedError)) throw err;
    summary.truncated = err.message;
  }
}
