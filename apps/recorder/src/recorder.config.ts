import { z } from 'zod';
import { baseConfigShape, env } from '@toolpath/platform';

export const recorderConfigSchema = z.object({
  ...baseConfigShape,
  /** Most rows per insertMany. */
  RECORDER_BATCH_SIZE: env.positiveInt.max(10_000).default(1000),
  /**
   * Longest a partial batch waits for more events while a writer is free (group commit: while
   * every writer is busy, events keep collecting and the batch grows with the load). Shorter means
   * lower latency on a calm stream and more, smaller writes.
   */
  RECORDER_BATCH_WINDOW_MS: env.positiveInt.max(10_000).default(20),
  /**
   * Batches written at once; more overlap collection with writing. A recorder holds at most
   * (this + 1) × RECORDER_BATCH_SIZE messages, written or waiting, and pulls no more until a
   * write frees room.
   */
  RECORDER_WRITE_CONCURRENCY: env.positiveInt.max(16).default(2),
  /** Unacknowledged messages on the shared consumer, across all recorders (a JetStream setting). */
  RECORDER_MAX_ACK_PENDING: env.positiveInt.default(20_000),
  /** How long JetStream waits before redelivering a message a recorder took but did not ack. */
  RECORDER_ACK_WAIT_MS: env.positiveInt.default(30_000),
  /**
   * `auto`: the secondary indexes of tool_events on MongoDB, none on FerretDB v1, which never
   * uses them for a read but pays for them on every insert; `all`: always.
   */
  RECORDER_SECONDARY_INDEXES: z.enum(['auto', 'all']).default('auto'),
  /** Stored size of an event's `result`; larger ones are cut and marked `resultTruncated`. */
  RECORDER_RESULT_MAX_BYTES: env.positiveInt.default(64 * 1024),
  /**
   * Tries of one message whose processing fails while the database answers (an exception, a
   * write refused for that document), made with the message alone once its batch failed; then it
   * is dead-lettered to `rejected_events` (`processing_failed`, or `storage_rejected` for a row
   * the database kept refusing) and acknowledged. A database that does not answer is retried
   * without bound instead: an outage never dead-letters events.
   */
  RECORDER_PROCESSING_ATTEMPTS: env.positiveInt.max(100).default(3),
  /**
   * Test-only fault hook, off unless set: writing an event whose `tool` is this name throws, a
   * real poison message for the poison-message tests and drill. Never set it in production.
   */
  TOOLPATH_FAULT_POISON_TOOL: z.string().min(1).optional(),
});

export type RecorderConfig = z.infer<typeof recorderConfigSchema>;
