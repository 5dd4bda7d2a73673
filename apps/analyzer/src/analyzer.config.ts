import { z } from 'zod';
import { baseConfigShape, env } from '@toolpath/platform';

const ratio = z.coerce.number().min(0).max(1);

/** `off` disables the schedule (on-demand runs still work); otherwise a cron expression (5 or 6 fields). */
const schedule = z
  .string()
  .trim()
  .refine((v) => v === 'off' || /^(\S+\s+){4,5}\S+$/.test(v), 'a cron expression of 5 or 6 fields, or "off"');

export const analyzerConfigSchema = z.object({
  ...baseConfigShape,
  /** When scheduled runs start (every minute by default); every analyzer tries, the lock lets one run. */
  ANALYZER_SCHEDULE: schedule.default('*/1 * * * *'),
  /** Life of the run lock; the holder renews it every third of this while it runs. */
  ANALYZER_LOCK_TTL_MS: env.positiveInt.min(1000).default(30_000),
  /** Messages per pull from the stream. */
  ANALYZER_FETCH_BATCH: env.positiveInt.max(10_000).default(1000),
  /** Events read between two persists (state written, then the messages acknowledged). */
  ANALYZER_PERSIST_EVERY: env.positiveInt.max(200_000).default(20_000),
  /** JetStream redelivery delay of messages taken and not acknowledged (longer than one persist step). */
  ANALYZER_ACK_WAIT_MS: env.positiveInt.min(1000).default(300_000),
  /** A session without a session_end closes after this long without events. */
  ANALYZER_SESSION_IDLE_MS: env.positiveInt.default(300_000),
  /**
   * A session with a session_end closes once events are arriving this long after it (arrival
   * clock), so calls published just before the session_end but delivered just after it still join it.
   */
  ANALYZER_SESSION_END_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(0),
  /** Steps kept per session at most (longer sessions keep their first steps). */
  ANALYZER_MAX_STEPS_PER_SESSION: env.positiveInt.default(10_000),
  ANALYZER_MIN_STEPS: env.positiveInt.min(2).max(20).default(3),
  ANALYZER_MAX_STEPS: env.positiveInt.min(2).max(20).default(8),
  /** Longest pattern learned: frequent patterns of ANALYZER_MAX_STEPS steps are grown up to this many (closed extensions only). */
  ANALYZER_MAX_PATTERN_STEPS: env.positiveInt.min(2).max(255).default(64),
  /** Patterns listed per tenant at most (the best by score); bounds listing, the stored rows and inference. */
  ANALYZER_MAX_PATTERNS: env.positiveInt.max(100_000).default(500),
  /** Unrelated calls allowed between two consecutive steps of a pattern. */
  ANALYZER_MAX_GAP: z.coerce.number().int().min(0).max(10).default(2),
  /** Distinct sessions a sequence needs to be listed. */
  ANALYZER_MIN_SUPPORT: env.positiveInt.default(3),
  ANALYZER_MIN_SUCCESS_RATE: ratio.default(0),
  /** Listed patterns appear in at least this share of the tenant's sessions as well (0.01 = 1 %). */
  ANALYZER_MIN_SUPPORT_SHARE: ratio.default(0.01),
  /** A sub-pattern whose support is within this share of a longer pattern's is not listed separately (0 = strictly closed). */
  ANALYZER_CLOSED_TOLERANCE: z.coerce.number().min(0).max(10).default(0.1),
  /** Occurrences kept per pattern (for inference and the examples of `GET /patterns/:id`). */
  ANALYZER_EXAMPLES_PER_PATTERN: env.positiveInt.max(200).default(20),
  /** Results larger than this (JSON bytes) are left out of mining; data-flow inference cannot use them. */
  ANALYZER_MAX_RESULT_BYTES: env.positiveInt.default(16 * 1024),
  /** Learned workflows are suggested only at or above this confidence (Wilson lower bound). */
  ANALYZER_CONFIDENCE_THRESHOLD: ratio.default(0.5),
  /** Promote patterns above ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE to the catalog without approval. */
  ANALYZER_AUTO_PROMOTE: env.bool.default(false),
  ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE: ratio.default(0.8),
  /** The journal is folded into a new snapshot once it is this fraction of the snapshot's size. */
  ANALYZER_COMPACT_RATIO: z.coerce.number().positive().max(10).default(0.5),
  /** Size of one stored part of a snapshot or journal blob (documents are limited to 16 MB). */
  ANALYZER_BLOB_PART_BYTES: env.positiveInt.min(64 * 1024).max(15 * 1024 * 1024).default(4 * 1024 * 1024),
  /** How often an analyzer answering a query checks that its cached tenant state is current. */
  ANALYZER_STATE_CHECK_MS: env.positiveInt.default(1000),
  /** How often the suggestion index re-reads the tenant's workflow catalog. */
  ANALYZER_CATALOG_REFRESH_MS: env.positiveInt.default(30_000),
  /** Run records are kept this long. */
  ANALYZER_RUNS_RETENTION_HOURS: z.coerce.number().positive().default(72),
  /**
   * Tries of one event whose counting or persisting fails while the database answers (a poison
   * message), made with the event alone once its step failed; then it is dead-lettered to
   * `rejected_events` (`processing_failed`) and skipped. A database that does not answer is
   * retried without bound instead (the run fails and the next one re-reads the step).
   */
  ANALYZER_PROCESSING_ATTEMPTS: env.positiveInt.max(100).default(3),
  /**
   * Test-only fault hook, off unless set: counting an event whose `tool` is this name throws, a
   * real poison message for the poison-message tests and drill. Never set it in production.
   */
  TOOLPATH_FAULT_POISON_TOOL: z.string().min(1).optional(),
});

export type AnalyzerConfig = z.infer<typeof analyzerConfigSchema>;
