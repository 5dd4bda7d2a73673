import { connect, Events, type ConnectionOptions, type NatsConnection, type PubAck } from 'nats';
import { DEFAULT_SUBJECT_PREFIX, TENANT_ID_PATTERN, type ToolEventInput } from '@toolpath/contracts';
import { buildEvent, encodeEvent, type EncodedEvent, type EventDefaults } from './encode-event';
import { JetStreamAcks } from './jetstream-acks';
import {
  EventDroppedError,
  EventTooLargeError,
  FlushTimeoutError,
  InvalidEventError,
  PublisherClosedError,
  ToolpathSdkError,
} from './errors';
import { RingQueue } from './ring-queue';
import { ToolSession, type ToolSessionOptions } from './tool-session';

/** Settings shared by both ways of creating a publisher. */
export interface EventPublisherOptions {
  /** Tenant every event belongs to (a subject token: `^[A-Za-z0-9_-]{1,64}$`). */
  tenantId: string;
  /** Subject prefix; events go to `<prefix>.events.<tenantId>`. Default `toolpath`. */
  subjectPrefix?: string;
  /** Events waiting to be sent (queued or backing off) before new ones are dropped. Default 10 000. */
  maxBuffer?: number;
  /** Publishes awaiting their JetStream ack at once. Default 256. */
  maxInFlight?: number;
  /** How long one publish waits for its ack. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Retries of a failed publish (with exponential backoff) before the event is dropped. Default 3. */
  maxRetries?: number;
  /** First retry delay; each further retry doubles it (with jitter, capped at 5 s). Default 100 ms. */
  retryBackoffMs?: number;
  /** Default `source` of events (the publishing service). */
  source?: string;
  /** Called with every problem the caller does not see as an exception: drops, connection errors. */
  onError?: (err: Error) => void;
}

/** Options of `EventPublisher.connect`, which owns (and on close drains) its connection. */
export interface EventPublisherConnectOptions extends EventPublisherOptions {
  /** NATS server URL(s). */
  servers: string | string[];
  /** Connection name shown by the server. Default `toolpath-sdk`. */
  name?: string;
  /** Wait between attempts while the first connection cannot be made. Default 1000 ms. */
  reconnectTimeWaitMs?: number;
  /** Further nats.js options (credentials, TLS, ...). */
  natsOptions?: Omit<ConnectionOptions, 'servers' | 'name'>;
}

/** Counters since the publisher was created; `pending` and `inFlight` are current levels. */
export interface PublisherStats {
  /** Events acknowledged by the stream (including duplicates). */
  published: number;
  /** Acknowledged events the stream had already stored (same `Nats-Msg-Id` inside its window). */
  duplicates: number;
  /** Accepted events not yet sent: queued, or waiting to be retried. */
  pending: number;
  inFlight: number;
  droppedBufferFull: number;
  droppedAfterRetries: number;
  /** Events still unsent when `close()` gave up, or when a borrowed connection closed. */
  droppedOnClose: number;
  /** `publish()` calls refused with `EventTooLargeError`. */
  tooLarge: number;
  /** `publish()` calls refused with `InvalidEventError`. */
  invalid: number;
}

/** What the buffer holds: only the fields needed to send (small, since up to maxBuffer live at once). */
interface QueuedEvent extends EncodedEvent {
  /** Acceptance order, so `flush()` can wait for exactly what came before it. */
  id: number;
  attempts: number;
}

interface FlushWaiter {
  upTo: number;
  remaining: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const DEFAULT_FLUSH_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 5_000;

/**
 * Publishes tool-call events to JetStream without ever making the caller wait: `publish()` encodes
 * and queues, and a pump sends with a bounded number of acks outstanding, retrying failures with
 * backoff. The queue is bounded; what does not fit is dropped and counted.
 */
export class EventPublisher {
  private readonly defaults: EventDefaults;
  private readonly prefix: string;
  private readonly maxBuffer: number;
  private readonly maxInFlight: number;
  private readonly maxRetries: number;
  private readonly retryBackoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly onError?: (err: Error) => void;

  private readonly queue = new RingQueue<QueuedEvent>();
  /** Events backing off before a retry, by their timer. */
  private readonly retrying = new Map<NodeJS.Timeout, QueuedEvent>();
  private inFlight = 0;
  /** Accepted and not yet acked or dropped: queued + waiting to retry + in flight. */
  private outstanding = 0;
  private lastId = 0;
  private flushWaiters: FlushWaiter[] = [];
  private pumpScheduled = false;
  private bufferFullStreak = false;
  private readonly counters = {
    published: 0,
    duplicates: 0,
    droppedBufferFull: 0,
    droppedAfterRetries: 0,
    droppedOnClose: 0,
    tooLarge: 0,
    invalid: 0,
  };

  private nc?: NatsConnection;
  /** Publishes with acks, on the current connection. */
  private acks?: JetStreamAcks;
  private connected = false;
  private readonly ownsConnection: boolean;
  /** A borrowed connection closed under us: nothing can be sent any more. */
  private connectionLost = false;
  private closing = false;
  /** Set once `close()` has flushed: from then on nothing is requeued. */
  private closed = false;
  private closePromise?: Promise<void>;
  private wakeConnectLoop?: () => void;
  private readonly connectOptions?: EventPublisherConnectOptions;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;

  /** Creates a publisher that connects in the background and returns at once, even while NATS is down. */
  static connect(opts: EventPublisherConnectOptions): EventPublisher {
    return new EventPublisher(undefined, opts);
  }

  /** Publishes on an existing connection, which `close()` leaves open. */
  constructor(connection: NatsConnection, opts: EventPublisherOptions);
  /** @internal used by `connect()` */
  constructor(connection: undefined, opts: EventPublisherConnectOptions);
  constructor(connection: NatsConnection | undefined, opts: EventPublisherOptions | EventPublisherConnectOptions) {
    if (!TENANT_ID_PATTERN.test(opts.tenantId ?? '')) {
      throw new ToolpathSdkError(`tenantId must match ${TENANT_ID_PATTERN.source}, got ${JSON.stringify(opts.tenantId)}`);
    }
    this.defaults = { tenantId: opts.tenantId, source: opts.source };
    this.prefix = opts.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    this.maxBuffer = positiveInt('maxBuffer', opts.maxBuffer ?? 10_000);
    this.maxInFlight = positiveInt('maxInFlight', opts.maxInFlight ?? 256);
    this.maxRetries = nonNegativeInt('maxRetries', opts.maxRetries ?? 3);
    this.retryBackoffMs = nonNegativeInt('retryBackoffMs', opts.retryBackoffMs ?? 100);
    this.publishTimeoutMs = positiveInt('publishTimeoutMs', opts.publishTimeoutMs ?? 5000);
    this.onError = opts.onError;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => undefined);

    this.ownsConnection = connection === undefined;
    if (connection) {
      this.attach(connection);
    } else {
      this.connectOptions = opts as EventPublisherConnectOptions;
      void this.connectLoop(this.connectOptions);
    }
  }

  /**
   * Encodes `input` as a v1 event, queues it and returns its eventId; never waits on the network.
   * Throws `InvalidEventError` or `EventTooLargeError` (the event is refused, not queued), and
   * `PublisherClosedError` after `close()`. When the buffer is full the event is dropped and counted.
   */
  publish(input: ToolEventInput): string {
    if (this.closing) throw new PublisherClosedError();
    let encoded: EncodedEvent;
    try {
      encoded = encodeEvent(buildEvent(input, this.defaults), this.prefix);
    } catch (err) {
      if (err instanceof EventTooLargeError) this.counters.tooLarge++;
      else if (err instanceof InvalidEventError) this.counters.invalid++;
      throw err;
    }
    this.enqueue(encoded);
    return encoded.eventId;
  }

  /** Starts a session whose tracked tool calls are published as one task. */
  session(opts: ToolSessionOptions = {}): ToolSession {
    return new ToolSession({ publish: (input) => this.publish(input), reportError: (err) => this.report(err) }, opts);
  }

  /**
   * Runs `fn` inside a session and ends it: successful when `fn` resolves (unless a tracked step
   * failed), failed with the error's message when it throws; the error is rethrown unchanged.
   */
  async runSession<T>(opts: ToolSessionOptions, fn: (session: ToolSession) => T | PromiseLike<T>): Promise<Awaited<T>> {
    const session = this.session(opts);
    let value: Awaited<T>;
    try {
      value = await fn(session);
    } catch (err) {
      session.end({ success: false, error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    session.end();
    return value;
  }

  /**
   * Resolves when every event accepted before this call is settled: acknowledged by the stream,
   * or dropped after its retries (see `stats()`). Rejects with `FlushTimeoutError` after
   * `timeoutMs` (default 30 s).
   */
  flush(timeoutMs: number = DEFAULT_FLUSH_TIMEOUT_MS): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: FlushWaiter = { upTo: this.lastId, remaining: this.outstanding, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== waiter);
        reject(new FlushTimeoutError(timeoutMs, waiter.remaining));
      }, timeoutMs);
      this.flushWaiters.push(waiter);
    });
  }

  /**
   * Stops accepting events, flushes for at most `timeoutMs` (default 10 s), drops and counts what is
   * still unsent, and drains the connection if this publisher opened it. Idempotent.
   */
  close(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.closePromise ??= this.shutdown(opts.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.closePromise;
  }

  /** Resolves once connected (at once for a borrowed connection); rejects on timeout or close. */
  ready(timeoutMs?: number): Promise<void> {
    if (timeoutMs === undefined) return this.readyPromise;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ToolpathSdkError(`not connected to NATS after ${timeoutMs} ms`)), timeoutMs);
      this.readyPromise.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  /** Whether the connection is up right now. */
  get isConnected(): boolean {
    return this.connected;
  }

  stats(): PublisherStats {
    return {
      ...this.counters,
      pending: this.queue.size + this.retrying.size,
      inFlight: this.inFlight,
    };
  }

  private enqueue(encoded: EncodedEvent): void {
    if (this.connectionLost) {
      this.counters.droppedOnClose++;
      return;
    }
    if (this.queue.size + this.retrying.size >= this.maxBuffer) {
      this.counters.droppedBufferFull++;
      if (!this.bufferFullStreak) {
        this.bufferFullStreak = true;
        this.report(
          new EventDroppedError(
            'buffer_full',
            encoded.eventId,
            `event buffer full (${this.maxBuffer}); dropping new events until it drains` +
              (this.connected ? '' : ' (NATS is not connected)'),
          ),
        );
      }
      return;
    }
    this.bufferFullStreak = false;
    this.queue.push({
      subject: encoded.subject,
      data: encoded.data,
      msgId: encoded.msgId,
      eventId: encoded.eventId,
      tenantId: encoded.tenantId,
      id: ++this.lastId,
      attempts: 0,
    });
    this.outstanding++;
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      // After the caller's synchronous code: publish() itself never touches the socket.
      queueMicrotask(this.pumpTask);
    }
  }

  private readonly pumpTask = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  private pump(): void {
    const acks = this.acks;
    if (!acks || !this.connected) return;
    while (this.inFlight < this.maxInFlight) {
      const item = this.queue.shift();
      if (item === undefined) return;
      this.send(acks, item);
    }
  }

  private send(acks: JetStreamAcks, item: QueuedEvent): void {
    this.inFlight++;
    item.attempts++;
    acks.publish(item.subject, item.data, item.msgId, this.publishTimeoutMs).then(
      (ack) => this.onAck(item, ack),
      (err: unknown) => this.onFail(item, err),
    );
  }

  private onAck(item: QueuedEvent, ack: PubAck): void {
    this.inFlight--;
    this.counters.published++;
    if (ack.duplicate) this.counters.duplicates++;
    this.settle(item);
    this.pump();
  }

  private onFail(item: QueuedEvent, err: unknown): void {
    this.inFlight--;
    if (this.closed || this.connectionLost) {
      this.drop(item, 'closed', err);
      return;
    }
    if (!this.connected) {
      // The connection dropped while this was in flight: not the event's fault, so it keeps its
      // retry budget and goes first once nats.js reconnects (the msg id makes a resend safe).
      item.attempts--;
      this.queue.unshift(item);
      return;
    }
    if (item.attempts > this.maxRetries) {
      this.drop(item, 'retries_exhausted', err);
      this.pump();
      return;
    }
    const base = Math.min(MAX_BACKOFF_MS, this.retryBackoffMs * 2 ** (item.attempts - 1));
    const timer = setTimeout(() => {
      this.retrying.delete(timer);
      this.queue.unshift(item);
      this.pump();
    }, base / 2 + Math.random() * (base / 2));
    this.retrying.set(timer, item);
  }

  private drop(item: QueuedEvent, reason: 'retries_exhausted' | 'closed', cause?: unknown): void {
    if (reason === 'retries_exhausted') this.counters.droppedAfterRetries++;
    else this.counters.droppedOnClose++;
    this.settle(item);
    if (reason === 'retries_exhausted') {
      const why = cause instanceof Error ? cause.message : String(cause);
      this.report(
        new EventDroppedError(reason, item.eventId, `event ${item.eventId} dropped after ${item.attempts} attempt(s): ${why}`, {
          cause,
        }),
      );
    }
  }

  private settle(item: QueuedEvent): void {
    this.outstanding--;
    if (this.flushWaiters.length === 0) return;
    let done = false;
    for (const waiter of this.flushWaiters) {
      if (item.id <= waiter.upTo && --waiter.remaining === 0) {
        clearTimeout(waiter.timer);
        waiter.resolve();
        done = true;
      }
    }
    if (done) this.flushWaiters = this.flushWaiters.filter((w) => w.remaining > 0);
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.acks?.close('the publisher moved to a new connection');
    this.acks = new JetStreamAcks(nc);
    this.connected = !nc.isClosed();
    this.resolveReady();
    void this.watchStatus(nc);
    void nc.closed().then((err) => this.onConnectionClosed(nc, err));
    this.pump();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect) {
          this.connected = false;
        } else if (status.type === Events.Reconnect) {
          this.connected = true;
          this.pump();
        }
      }
    } catch (err) {
      this.report(err as Error);
    }
  }

  private onConnectionClosed(nc: NatsConnection, err: void | Error): void {
    if (nc !== this.nc) return;
    this.connected = false;
    this.acks?.close('NATS connection closed');
    this.acks = undefined;
    if (this.closing) return;
    this.report(new ToolpathSdkError(`NATS connection closed${err ? `: ${err.message}` : ''}`, { cause: err }));
    if (this.ownsConnection) {
      if (this.connectOptions) void this.connectLoop(this.connectOptions);
      return;
    }
    this.connectionLost = true;
    this.dropAllUnsent();
  }

  /*
   * The first connection is retried here rather than with nats.js's `waitOnFirstConnect: true`,
   * which has the same effect but cannot be cancelled: a publisher closed while NATS was down would
   * keep its process alive. Once connected, nats.js reconnects by itself, forever.
   */
  private async connectLoop(opts: EventPublisherConnectOptions): Promise<void> {
    const waitMs = opts.reconnectTimeWaitMs ?? 1000;
    let lastMessage = '';
    // `closed`, not `closing`: events accepted before close() still need this connection.
    while (!this.closed) {
      try {
        const nc = await connect({
          noAsyncTraces: true,
          ...opts.natsOptions,
          servers: opts.servers,
          name: opts.name ?? 'toolpath-sdk',
          waitOnFirstConnect: false,
          maxReconnectAttempts: -1,
          reconnectTimeWait: waitMs,
        });
        if (this.closed) {
          await nc.close().catch(() => undefined);
          return;
        }
        this.attach(nc);
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== lastMessage) {
          lastMessage = message;
          this.report(new ToolpathSdkError(`cannot connect to NATS (will keep trying): ${message}`, { cause: err }));
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          this.wakeConnectLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeConnectLoop = undefined;
      }
    }
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true;
    try {
      await this.flush(timeoutMs);
    } catch (err) {
      this.report(err as Error);
    }
    this.closed = true;
    this.dropAllUnsent();
    this.wakeConnectLoop?.();
    this.rejectReady(new PublisherClosedError());
    const nc = this.nc;
    if (this.ownsConnection && nc && !nc.isClosed()) {
      await nc.drain().catch(() => nc.close());
    }
    // Acks that never came (a borrowed connection stays open) end as drops, counted.
    this.acks?.close('the publisher is closed');
    this.acks = undefined;
    this.connected = false;
    // Whatever was still in flight has now either been acked or rejected (and counted as a drop).
    for (const waiter of this.flushWaiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.flushWaiters = [];
  }

  private dropAllUnsent(): void {
    const waiting = [...this.retrying];
    this.retrying.clear();
    for (const [timer, item] of waiting) {
      clearTimeout(timer);
      this.drop(item, 'closed');
    }
    for (const item of this.queue.drain()) this.drop(item, 'closed');
  }

  private report(err: Error): void {
    if (!this.onError) return;
    try {
      this.onError(err);
    } catch {
      // A failing error handler must not break publishing.
    }
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ToolpathSdkError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new ToolpathSdkError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
