import { randomBytes } from 'node:crypto';
import { connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { mongo } from 'mongoose';
import { eventsSubjectFilter } from '@toolpath/contracts';

/** Where the services started by `scripts/infra.sh` listen, unless the environment says otherwise. */
export const testUrls = {
  nats: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  mongo: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017',
};

/** A short random token safe for subjects, stream names, database names and queue prefixes. */
export function uniqueToken(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Names that give one test its own stream, subjects, database and queue prefix, so parallel
 * runs never see each other's data.
 */
export interface TestNames {
  token: string;
  subjectPrefix: string;
  stream: string;
  mongoDb: string;
  queuePrefix: string;
}

export function testNames(label = 't'): TestNames {
  const token = uniqueToken();
  const safe = label.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 't';
  return {
    token,
    subjectPrefix: `tp_${safe}_${token}`,
    stream: `TP_${safe.toUpperCase()}_${token.toUpperCase()}`,
    mongoDb: `tp_${safe}_${token}`,
    queuePrefix: `tp_${safe}_${token}`,
  };
}

/** Settings an app reads, pointing at the isolated names. */
export function isolatedEnv(names: TestNames): Record<string, string> {
  return {
    NATS_URL: testUrls.nats,
    REDIS_URL: testUrls.redis,
    MONGO_URL: testUrls.mongo,
    MONGO_DB: names.mongoDb,
    TOOLPATH_SUBJECT_PREFIX: names.subjectPrefix,
    TOOLPATH_EVENTS_STREAM: names.stream,
    TOOLPATH_QUEUE_PREFIX: names.queuePrefix,
    // JetStream reserves a file stream's max_bytes up front: keep test streams small so many
    // suites can hold one at once.
    TOOLPATH_EVENTS_MAX_BYTES: String(256 * 1024 * 1024),
    TOOLPATH_EVENTS_MAX_AGE_HOURS: '2',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  };
}

export async function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: testUrls.nats, timeout: 5000, name: 'toolpath-test' });
}

/** Creates the events stream for a test's prefix (memory-backed: tests need no durability here). */
export async function createTestEventsStream(
  nc: NatsConnection,
  names: TestNames,
  opts: { storage?: 'file' | 'memory'; duplicateWindowMs?: number } = {},
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: names.stream,
    subjects: [eventsSubjectFilter(names.subjectPrefix)],
    storage: opts.storage === 'file' ? StorageType.File : StorageType.Memory,
    retention: RetentionPolicy.Limits,
    duplicate_window: (opts.duplicateWindowMs ?? 120_000) * 1_000_000,
  });
}

export async function deleteTestStream(nc: NatsConnection, names: TestNames): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(names.stream).catch(() => undefined);
}

/** Removes what a test made under its names: its stream and its database (best effort). */
export async function dropTestResources(names: TestNames): Promise<void> {
  const nc = await connectTestNats();
  try {
    await deleteTestStream(nc, names);
  } finally {
    await nc.close();
  }
  const client = await mongo.MongoClient.connect(testUrls.mongo);
  try {
    await client.db(names.mongoDb).dropDatabase().catch(() => undefined);
  } finally {
    await client.close();
  }
}

/** Polls `probe` until it returns a truthy value or the bound runs out. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
