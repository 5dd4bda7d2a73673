import { createInbox, headers, type Msg, type NatsConnection, type PubAck, type Subscription } from 'nats';
import { ToolpathSdkError } from './errors';

const decoder = new TextDecoder();

/** JetStream refused the message, did not answer in time, or no stream takes its subject. */
export class PublishAckError extends ToolpathSdkError {
  constructor(
    readonly code: 'timeout' | 'no_stream' | 'jetstream',
    message: string,
  ) {
    super(message);
  }
}

interface Waiter {
  subject: string;
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
}

/**
 * JetStream publishes with their acks matched on one inbox subscription of ours.
 *
 * Why not `js.publish`: it is a `nc.request` per message, and nats.js builds a request object, a
 * timer and an error object (with its stack) for every one of them, even for a request that
 * succeeds; at thousands of events per second that is a large share of a publisher's CPU. Here a
 * message costs a map entry, and one sweep timer serves every deadline. The wire exchange is the
 * same: the message with its `Nats-Msg-Id` header and a reply subject, the stream's PubAck (or
 * error) on that subject, and the server's 503 status when no stream takes the subject.
 */
export class JetStreamAcks {
  private readonly prefix = createInbox();
  private readonly sub: Subscription;
  private readonly waiting = new Map<string, Waiter>();
  private next = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly nc: NatsConnection) {
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
  }

  /** Publishes `data` on `subject`; resolves with the stream's ack, rejects after `timeoutMs`. */
  publish(subject: string, data: Uint8Array, msgId: string, timeoutMs: number): Promise<PubAck> {
    const token = (this.next++).toString(36);
    const h = headers();
    h.set('Nats-Msg-Id', msgId);
    return new Promise<PubAck>((resolve, reject) => {
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.waiting.set(token, { subject, resolve, reject, deadline: Date.now() + timeoutMs });
      this.sweepTimer ??= setInterval(() => this.sweep(), Math.max(25, Math.min(1000, Math.floor(timeoutMs / 4))));
      this.sweepTimer.unref?.();
    });
  }

  /** Acks still awaited. */
  get size(): number {
    return this.waiting.size;
  }

  /** Rejects everything still awaited and stops listening. */
  close(reason = 'the publisher is closed'): void {
    this.sub.unsubscribe();
    this.stopSweep();
    for (const w of this.waiting.values()) w.reject(new PublishAckError('jetstream', reason));
    this.waiting.clear();
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    if (this.waiting.size === 0) this.stopSweep();
    if (msg.headers?.hasError) {
      // A status message from the server, not from a stream: 503 means no stream took the subject.
      const { code, description } = msg.headers;
      if (code === 503) w.reject(new PublishAckError('no_stream', `no stream takes subject ${w.subject} (503 no responders)`));
      else w.reject(new PublishAckError('jetstream', `publishing on ${w.subject} failed: ${code} ${description}`));
      return;
    }
    let ack: { stream?: string; seq?: number; duplicate?: boolean; domain?: string; error?: { code?: number; description?: string } };
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
    } catch {
      w.reject(new PublishAckError('jetstream', 'JetStream answered with something that is not a PubAck'));
      return;
    }
    if (ack.error || typeof ack.stream !== 'string' || typeof ack.seq !== 'number') {
      w.reject(new PublishAckError('jetstream', `JetStream refused the event: ${ack.error?.description ?? 'no stream or sequence in the ack'}${ack.error?.code ? ` (${ack.error.code})` : ''}`));
      return;
    }
    w.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true, domain: ack.domain ?? '' });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) continue;
      this.waiting.delete(token);
      w.reject(new PublishAckError('timeout', `no JetStream ack for ${w.subject} in time`));
    }
    if (this.waiting.size === 0) this.stopSweep();
  }

  private stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
