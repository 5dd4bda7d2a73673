import type { ToolEventInput } from '@toolpath/contracts';
import { buildEvent, encodeEvent, type EventPublisher } from '@toolpath/sdk';

/** Where the importer sends events. */
export interface EventSink {
  /**
   * Takes one event. Throws the SDK's `InvalidEventError` or `EventTooLargeError` for an event
   * that can never be sent; returns a promise when the caller must wait before sending more.
   */
  send(event: ToolEventInput): Promise<void> | void;
  /** Resolves once everything sent is settled; rejects when the stream stopped acknowledging. */
  finish(): Promise<void>;
  counts(): SinkCounts;
}

export interface SinkCounts {
  /** Acknowledged by the stream (including duplicates). */
  published: number;
  /** Acknowledged as already stored: the same file imported again. */
  duplicates: number;
  /** Given up on after retries, or unsent when the publisher closed. */
  dropped: number;
}

/** The stream did not acknowledge events within the wait: NATS or the stream is unreachable. */
export class AcknowledgementTimeoutError extends Error {}

export interface PublishingSinkOptions {
  /** Events sent but not yet acknowledged, at most. Default 2000. */
  window?: number;
  /** How long to wait for one half-window of acknowledgements. Default 30 000 ms. */
  ackTimeoutMs?: number;
}

/**
 * Publishes through the SDK's `EventPublisher` and never runs ahead of the stream: after each
 * half window it waits until the half window before it is acknowledged, so at most `window`
 * events are unacknowledged and the file is read only as fast as NATS acknowledges. The
 * publisher's buffer must hold a window (see `publisherBufferFor`), so nothing is dropped for room.
 */
export class PublishingSink implements EventSink {
  private readonly half: number;
  private readonly ackTimeoutMs: number;
  private sinceCheckpoint = 0;
  /** One settled-or-error promise per half window, oldest first. */
  private readonly checkpoints: Promise<Error | undefined>[] = [];

  constructor(
    private readonly publisher: EventPublisher,
    opts: PublishingSinkOptions = {},
  ) {
    this.half = Math.max(1, Math.floor((opts.window ?? 2000) / 2));
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 30_000;
  }

  send(event: ToolEventInput): Promise<void> | void {
    this.publisher.publish(event);
    if (++this.sinceCheckpoint < this.half) return;
    this.sinceCheckpoint = 0;
    this.checkpoints.push(this.checkpoint());
    if (this.checkpoints.length >= 2) return this.awaitOldest();
  }

  async finish(): Promise<void> {
    this.checkpoints.push(this.checkpoint());
    while (this.checkpoints.length > 0) await this.awaitOldest();
  }

  counts(): SinkCounts {
    const s = this.publisher.stats();
    return {
      published: s.published,
      duplicates: s.duplicates,
      dropped: s.droppedAfterRetries + s.droppedBufferFull + s.droppedOnClose,
    };
  }

  private checkpoint(): Promise<Error | undefined> {
    return this.publisher.flush(this.ackTimeoutMs).then(
      () => undefined,
      (err: unknown) => new AcknowledgementTimeoutError(`the stream stopped acknowledging events: ${(err as Error).message}`),
    );
  }

  private async awaitOldest(): Promise<void> {
    const err = await this.checkpoints.shift();
    if (err) throw err;
  }
}

/** The publisher buffer a sink with this window needs, so no event is dropped for room. */
export function publisherBufferFor(window: number): number {
  return window + 1024;
}

/** `--dry-run`: validates and encodes like the publisher would, and counts; sends nothing. */
export class DryRunSink implements EventSink {
  private accepted = 0;

  constructor(
    private readonly tenantId: string,
    private readonly subjectPrefix?: string,
  ) {}

  send(event: ToolEventInput): void {
    encodeEvent(buildEvent(event, { tenantId: this.tenantId }), this.subjectPrefix);
    this.accepted++;
  }

  async finish(): Promise<void> {}

  counts(): SinkCounts {
    return { published: 0, duplicates: 0, dropped: 0 };
  }

  /** Events that would have been published. */
  get acceptedCount(): number {
    return this.accepted;
  }
}
