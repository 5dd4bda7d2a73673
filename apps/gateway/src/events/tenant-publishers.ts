import type { NatsConnection } from 'nats';
import type { ToolEventInput } from '@toolpath/contracts';
import { EventPublisher, EventTooLargeError, type PublisherStats } from '@toolpath/sdk';

export interface TenantPublishersOptions {
  subjectPrefix: string;
  source: string;
  /** The SDK's default when left out. */
  publishTimeoutMs?: number;
  onError: (err: Error) => void;
}

/** Tenants with a publisher of their own (each one is a small queue on the shared connection). */
const MAX_PUBLISHERS = 1000;
/** Parameters kept as JSON text when the whole event would be over the size limit. */
const MAX_PARAMETER_CHARS = 64 * 1024;

/**
 * Used by the OpenAI-compatible proxy's and the recording MCP gateway's recorders.
 * The gateway's events go the way of every event (the SDK's EventPublisher: encoded and checked
 * with the contract, published to JetStream with the de-duplication header, retried), one
 * publisher per tenant. Publishing only queues: a slow or absent NATS never delays a tool call;
 * what cannot be sent after the retries is dropped, counted and logged.
 */
export class TenantPublishers {
  private readonly publishers = new Map<string, EventPublisher>();

  constructor(
    private readonly connection: () => NatsConnection,
    private readonly opts: TenantPublishersOptions,
  ) {}

  /** Queues the event; never throws (a refused event is reported to onError). */
  publish(tenantId: string, event: ToolEventInput): void {
    try {
      const publisher = this.publisher(tenantId);
      try {
        publisher.publish(event);
      } catch (err) {
        if (!(err instanceof EventTooLargeError)) throw err;
        // Over the event size limit: keep the call, with its parameters and result cut short.
        publisher.publish({ ...event, parameters: { truncatedJson: JSON.stringify(event.parameters ?? {}).slice(0, MAX_PARAMETER_CHARS) }, result: undefined });
      }
    } catch (err) {
      this.opts.onError(err as Error);
    }
  }

  stats(): PublisherStats[] {
    return [...this.publishers.values()].map((p) => p.stats());
  }

  /** Resolves when every queued event is acknowledged or dropped (tests and benchmarks). */
  async flush(timeoutMs = 5000): Promise<void> {
    await Promise.all([...this.publishers.values()].map((p) => p.flush(timeoutMs)));
  }

  /** Sends what is queued (bounded) and closes every publisher; the connection stays open. */
  async close(timeoutMs = 3000): Promise<void> {
    await Promise.allSettled([...this.publishers.values()].map((p) => p.close({ timeoutMs })));
    this.publishers.clear();
  }

  private publisher(tenantId: string): EventPublisher {
    let p = this.publishers.get(tenantId);
    if (p) return p;
    if (this.publishers.size >= MAX_PUBLISHERS) {
      const [oldestTenant, oldest] = this.publishers.entries().next().value as [string, EventPublisher];
      this.publishers.delete(oldestTenant);
      void oldest.close({ timeoutMs: 3000 });
    }
    p = new EventPublisher(this.connection(), {
      tenantId,
      subjectPrefix: this.opts.subjectPrefix,
      source: this.opts.source,
      ...(this.opts.publishTimeoutMs !== undefined ? { publishTimeoutMs: this.opts.publishTimeoutMs } : {}),
      maxBuffer: 10_000,
      maxRetries: 3,
      onError: this.opts.onError,
    });
    this.publishers.set(tenantId, p);
    return p;
  }
}
