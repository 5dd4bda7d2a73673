import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  connect,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import { eventsSubjectFilter } from '@toolpath/contracts';
import type { BaseConfig } from '../config/base-config';
import { APP_CONFIG, SERVICE_INFO, type ServiceInfo } from '../config/tokens';

const NS_PER_MS = 1_000_000;

/**
 * The service's one NATS connection. nats.js reconnects forever in the background; a service
 * that starts while NATS is down waits for the first connection (bounded by the caller's boot
 * timeout) instead of crashing.
 */
@Injectable()
export class NatsClient implements OnApplicationShutdown {
  private readonly log = new Logger(NatsClient.name);
  private connection?: NatsConnection;
  private manager?: JetStreamManager;

  constructor(
    @Inject(APP_CONFIG) private readonly config: BaseConfig,
    @Inject(SERVICE_INFO) private readonly service: ServiceInfo,
  ) {}

  async connect(): Promise<NatsConnection> {
    if (this.connection) return this.connection;
    this.connection = await connect({
      servers: this.config.NATS_URL.split(','),
      name: `toolpath-${this.service.name}`,
      timeout: this.config.DEPENDENCY_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      pingInterval: 10_000,
      // nats.js otherwise builds an Error (a stack trace) for every request and JetStream publish,
      // in case it times out: about 5 % of the executor's CPU per step in a profile. A timeout
      // still says which subject it was for.
      noAsyncTraces: true,
    });
    void this.watchStatus(this.connection);
    return this.connection;
  }

  get nc(): NatsConnection {
    if (!this.connection) throw new Error('NATS is not connected yet');
    return this.connection;
  }

  get js(): JetStreamClient {
    return this.nc.jetstream({ timeout: this.config.DEPENDENCY_TIMEOUT_MS });
  }

  async jsm(): Promise<JetStreamManager> {
    this.manager ??= await this.nc.jetstreamManager({ timeout: this.config.DEPENDENCY_TIMEOUT_MS });
    return this.manager;
  }

  /** Round trip to the server, bounded by the dependency timeout. */
  async ping(): Promise<number> {
    if (!this.connection || this.connection.isClosed()) throw new Error('not connected');
    return this.connection.rtt();
  }

  /**
   * Creates the events stream, or updates its limits when it exists. Every service that touches
   * the stream calls this, so start-up order does not matter.
   */
  async ensureEventsStream(): Promise<void> {
    const c = this.config;
    const wanted: Partial<StreamConfig> & { name: string } = {
      name: c.TOOLPATH_EVENTS_STREAM,
      subjects: [eventsSubjectFilter(c.TOOLPATH_SUBJECT_PREFIX)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: Math.round(c.TOOLPATH_EVENTS_MAX_AGE_HOURS * 3600 * 1000 * NS_PER_MS),
      max_bytes: c.TOOLPATH_EVENTS_MAX_BYTES,
      duplicate_window: c.TOOLPATH_EVENTS_DUPLICATE_WINDOW_S * 1000 * NS_PER_MS,
    };
    const jsm = await this.jsm();
    try {
      const existing = await jsm.streams.info(wanted.name);
      // Only the limits are ours to adjust: JetStream refuses to change the storage type, and an
      // operator (or a test) may have chosen memory storage, replicas or more subjects on purpose.
      // A memory stream keeps its own limits: ours are sized for disk, and JetStream reserves a
      // memory stream's max_bytes up front (two 10 GB reservations exhaust a server).
      if (existing.config.storage !== StorageType.File) return;
      const { max_age, max_bytes, duplicate_window } = wanted;
      await jsm.streams.update(wanted.name, { ...existing.config, max_age, max_bytes, duplicate_window });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(wanted);
      } catch (addErr) {
        // Another instance created it between our info and add.
        if (!String(addErr).includes('already in use')) throw addErr;
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const nc = this.connection;
    if (!nc || nc.isClosed()) return;
    // The bound's timer is cleared once the drain ends: left running, it kept a stopped service's
    // process alive for the whole SHUTDOWN_TIMEOUT_MS.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([nc.drain(), new Promise((r) => (timer = setTimeout(r, this.config.SHUTDOWN_TIMEOUT_MS)))]).catch(() => undefined);
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') this.log.warn(`nats ${s.type} ${String(s.data)}`);
    }
  }
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number }; message?: string };
  return e?.code === '404' || e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || /not found/i.test(e?.message ?? '');
}
