import { z } from 'zod';
import { DEFAULT_EVENTS_STREAM, DEFAULT_SUBJECT_PREFIX } from '@toolpath/contracts';

const subjectToken = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Reusable field parsers for app-specific settings. */
export const env = { port, bool, subjectToken, positiveInt: z.coerce.number().int().positive() };

/** Settings every service reads. Apps extend this with their own. */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  MONGO_URL: z.string().default('mongodb://127.0.0.1:27017'),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('toolpath'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  TOOLPATH_SUBJECT_PREFIX: subjectToken.default(DEFAULT_SUBJECT_PREFIX),
  TOOLPATH_EVENTS_STREAM: subjectToken.default(DEFAULT_EVENTS_STREAM),
  /** Age limit of the events stream; the store, not the stream, is the long-term record. */
  TOOLPATH_EVENTS_MAX_AGE_HOURS: z.coerce.number().positive().default(24 * 7),
  TOOLPATH_EVENTS_MAX_BYTES: z.coerce.number().int().positive().default(1024 ** 3),
  TOOLPATH_EVENTS_DUPLICATE_WINDOW_S: z.coerce.number().int().positive().default(120),
  /** Bound on every outbound network call a service makes to its dependencies. */
  DEPENDENCY_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15000),
};

export const baseConfigSchema = z.object(baseConfigShape);
export type BaseConfig = z.infer<typeof baseConfigSchema>;
