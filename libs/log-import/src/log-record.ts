/** One activity of a case, as read from a log and before it becomes a tool-call event. */
export interface LogRecord {
  /** 1-based line in the file where the row or `<event>` starts. */
  line: number;
  caseId: string;
  activity: string;
  /** When the activity started (epoch ms). */
  startMs: number;
  /** How long it ran; 0 when the log has only one timestamp per activity. */
  durationMs: number;
  resource?: string;
  /** `true`/`false` when the log says how it went; `undefined` when it does not. */
  success?: boolean;
  /** Why it failed (the outcome value, or the XES lifecycle transition). */
  error?: string;
  intent?: string;
  /** Every other column or attribute, nested as the log nests it. */
  attributes?: Record<string, unknown>;
}

/** Why a row, event or trace was not imported (the summary counts them by this code). */
export type SkipReason =
  | 'bad_csv_row'
  | 'unclosed_quote'
  | 'wrong_column_count'
  | 'missing_case'
  | 'missing_activity'
  | 'missing_timestamp'
  | 'bad_timestamp'
  | 'malformed_xml'
  | 'malformed_event'
  | 'duplicate_case'
  | 'invalid_event'
  | 'too_large'
  /** Cut off by the end of a truncated file (a partial row, event or trace). */
  | 'truncated'
  /** An XES activity started but aborted or never completed: not an interval, not a call. */
  | 'not_completed';

export interface SkippedItem {
  line: number;
  reason: SkipReason;
  message: string;
  /** How many activities the skip covers (a trace without a case id skips all of its events). */
  count?: number;
  /**
   * The case, when the row still names it reliably: the skipped activity keeps its position in
   * the case, so fixing the row and importing again leaves the other activities' ids unchanged.
   */
  caseId?: string;
}

/** What a log reader yields, in file order. */
export type LogItem =
  | { type: 'record'; record: LogRecord }
  | { type: 'skip'; skip: SkippedItem }
  /** The case cannot receive more activities (an XES `</trace>`), so its `session_end` can go now. */
  | { type: 'case_end'; caseId: string };

/** Where a reader can report progress through the file. */
export interface ByteProgress {
  /** Bytes of the file consumed so far (compressed bytes for a .gz file). */
  bytesRead(): number;
}
