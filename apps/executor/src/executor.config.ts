import { z } from 'zod';
import { mcpConfigShape } from '@toolpath/mcp';
import { baseConfigShape, env } from '@toolpath/platform';

const hostList = z
  .string()
  .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0));

export const executorConfigSchema = z.object({
  ...baseConfigShape,
  /** BullMQ prefix is `{<this>}` (a Redis Cluster hash tag); the run store's keys share it. */
  TOOLPATH_QUEUE_PREFIX: env.subjectToken.default('toolpath'),
  /** Step attempts one executor runs at once. */
  EXECUTOR_CONCURRENCY: env.positiveInt.max(1000).default(32),
  /**
   * How long a step job's lock lives without renewal (renewed every half of it). A dead
   * executor's steps are taken over after at most max(lock + stalled interval, heartbeat TTL)
   * plus about a second: about 7 s with the defaults (docs/EXECUTOR.md, "Takeover").
   */
  EXECUTOR_LOCK_DURATION_MS: env.positiveInt.default(4_000),
  /** How often each executor looks for stalled jobs (ones whose lock expired). */
  EXECUTOR_STALLED_INTERVAL_MS: env.positiveInt.default(2_000),
  /**
   * How long an executor counts as alive after its last heartbeat (refreshed four times per TTL);
   * while it does, nobody else runs its steps. Default 1.5 x the lock duration.
   */
  EXECUTOR_HEARTBEAT_TTL_MS: env.positiveInt.optional(),
  /** Run deadline when the start request gives none; past it the run fails. */
  EXECUTOR_RUN_TIMEOUT_MS: env.positiveInt.default(60 * 60 * 1000),
  /** Step deadline when the step has no `timeoutMs`. */
  EXECUTOR_STEP_TIMEOUT_MS: env.positiveInt.default(5 * 60 * 1000),
  /** Nesting limit of `workflow.run` (a top-level run has depth 0). */
  EXECUTOR_MAX_DEPTH: z.coerce.number().int().min(0).max(50).default(5),
  /** Steps of one tenant running at once across all executors; more wait in the queue. */
  EXECUTOR_TENANT_MAX_RUNNING_STEPS: env.positiveInt.default(100),
  /** Stored size of a step result (JSON bytes); larger ones are replaced by a truncated preview. */
  EXECUTOR_RESULT_MAX_BYTES: env.positiveInt.default(64 * 1024),
  /** Largest response body `http.request` reads. */
  EXECUTOR_HTTP_MAX_BYTES: env.positiveInt.default(1024 * 1024),
  /**
   * SSRF guard of `http.request`: the only host names it may call (comma-separated, exact match
   * on the URL's host name, no DNS resolution). Default: loopback only.
   */
  EXECUTOR_HTTP_ALLOW_HOSTS: hostList.default(['127.0.0.1', 'localhost', '[::1]', '::1']),
  /** How often (at most) a running run's row in Mongo is written from Redis (a shorter run is written once, when it ends). */
  EXECUTOR_SNAPSHOT_INTERVAL_MS: env.positiveInt.default(1000),
  /** How often each executor looks for overdue runs and for ended runs nobody finalized (a dead executor's). */
  EXECUTOR_SWEEP_INTERVAL_MS: env.positiveInt.default(250),
  /** How long a finished run's live state stays in Redis (then reads come from Mongo). */
  EXECUTOR_FINISHED_TTL_S: env.positiveInt.default(24 * 3600),
  /**
   * Failed attempts to write a run's final row before it is written with what can be stored: after
   * this many, values the database refuses are kept as their JSON text; after twice as many, the
   * row keeps only the run's status, steps and times. Either way its `error` says so.
   */
  EXECUTOR_FINALIZE_MAX_ATTEMPTS: env.positiveInt.max(1000).default(5),
  /** MCP servers whose tools run as `mcp:<server>/<tool>` steps (docs/MCP.md). */
  ...mcpConfigShape,
});

export type ExecutorConfig = z.infer<typeof executorConfigSchema>;
