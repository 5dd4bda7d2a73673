import type { Provider } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { analyzerRunLockKey } from '@toolpath/contracts';
import { ToolEventReader, ToolEventWriter } from '@toolpath/event-store';
import { APP_CONFIG, NatsClient, RedisClient } from '@toolpath/platform';
import type { AnalyzerConfig } from './analyzer.config';
import { EventStreamReader } from './intake/event-stream.reader';
import { PatternRepository } from './patterns/pattern.repository';
import { RunLock } from './runs/run-lock';
import { RunRepository } from './runs/run.repository';
import { TenantStateRepository } from './state/tenant-state.repository';
import { CatalogReader } from './suggestions/catalog.reader';

const MONGO = getConnectionToken();

/**
 * What the analyzer reads and writes outside itself, each built once on the platform's
 * connections and injected by its class: the repositories on the database, the reader of the
 * events stream, the run lock on Redis. Services never build their own, so a unit test replaces
 * any of them (`overrideProvider`) without touching the services.
 */
export const INFRASTRUCTURE_PROVIDERS: Provider[] = [
  {
    provide: TenantStateRepository,
    inject: [APP_CONFIG, MONGO],
    useFactory: (c: AnalyzerConfig, mongo: Connection) => new TenantStateRepository(mongo.db!, c.ANALYZER_BLOB_PART_BYTES, c.ANALYZER_COMPACT_RATIO),
  },
  { provide: RunRepository, inject: [MONGO], useFactory: (mongo: Connection) => new RunRepository(mongo.db!) },
  { provide: PatternRepository, inject: [MONGO], useFactory: (mongo: Connection) => new PatternRepository(mongo.db!) },
  { provide: CatalogReader, inject: [MONGO], useFactory: (mongo: Connection) => new CatalogReader(mongo.db!) },
  // `rejected_events` has one writer (the event store's): the analyzer's dead letters go through it too.
  { provide: ToolEventWriter, inject: [MONGO], useFactory: (mongo: Connection) => new ToolEventWriter(mongo.db!) },
  { provide: ToolEventReader, inject: [MONGO], useFactory: (mongo: Connection) => new ToolEventReader(mongo.db!) },
  {
    provide: EventStreamReader,
    inject: [APP_CONFIG, NatsClient],
    useFactory: (c: AnalyzerConfig, nats: NatsClient) =>
      new EventStreamReader(nats, c.TOOLPATH_EVENTS_STREAM, c.TOOLPATH_SUBJECT_PREFIX, c.ANALYZER_ACK_WAIT_MS, Math.max(c.ANALYZER_PERSIST_EVERY * 2, 10_000)),
  },
  {
    provide: RunLock,
    inject: [APP_CONFIG, RedisClient],
    useFactory: (c: AnalyzerConfig, redis: RedisClient) => new RunLock(redis.redis, analyzerRunLockKey(c.TOOLPATH_SUBJECT_PREFIX), c.ANALYZER_LOCK_TTL_MS),
  },
];
