import { Logger } from '@nestjs/common';
import { ErrorCode, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { z } from 'zod';
import { errorReply, formatPath, type ServiceReply } from '@toolpath/contracts';
import type { HealthRegistry } from '../health/health-registry';

export interface NatsRequestServerOptions {
  /** The service's name, as it appears in logs and in the 503 a failing handler answers ("the analyzer could not answer"). */
  service: string;
  /** Queue group of the request subjects: one member answers each request. */
  queue: string;
  /** The connection holder (NatsClient); read when serving starts, not when constructed. */
  nats: { readonly nc: NatsConnection };
  health: HealthRegistry;
  /** Bound on the round trip that confirms the subscriptions at start. */
  confirmTimeoutMs: number;
  /** When set, `stop()` waits up to this long for the requests being answered. */
  drainTimeoutMs?: number;
  /** Name of the `/health` check; `api` unless told. */
  healthCheck?: string;
}

export type RequestHandler<T> = (body: T) => Promise<ServiceReply<unknown>>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A service's NATS request/reply API: JSON in, a `ServiceReply` out, on subjects served as a
 * queue group.
 *
 * A subscription serves until the service stops: no handler outcome (a throw, a rejected promise,
 * a reply NATS refuses) escapes its callback, because an exception thrown there would stop
 * nats.js reading the connection. Should one end anyway, `/health` reports the check down, naming
 * the subject.
 */
export class NatsRequestServer {
  private readonly log: Logger;
  private readonly subs: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly opts: NatsRequestServerOptions) {
    this.log = new Logger(`${capitalize(opts.service)}Api`);
  }

  /** Serves `subject` with a handler that validates the decoded body itself. */
  serve(subject: string, handle: RequestHandler<unknown>): void;
  /** Serves `subject`; a body `schema` refuses is answered 400 `invalid_request` naming the fields. */
  serve<S extends z.ZodType>(subject: string, schema: S, handle: RequestHandler<z.infer<S>>): void;
  serve(subject: string, schemaOrHandle: z.ZodType | RequestHandler<unknown>, maybeHandle?: RequestHandler<unknown>): void {
    const handle: RequestHandler<unknown> =
      typeof schemaOrHandle === 'function'
        ? schemaOrHandle
        : async (body) => {
            const parsed = schemaOrHandle.safeParse(body);
            return parsed.success ? maybeHandle!(parsed.data) : invalidRequest(parsed.error);
          };
    this.track(
      this.opts.nats.nc.subscribe(subject, {
        queue: this.opts.queue,
        callback: (err, msg) => {
          if (err) return;
          const answered: Promise<void> = this.answer(msg, handle)
            .catch((e: unknown) => this.log.error(`request on ${msg.subject} not answered: ${describe(e)}`))
            .finally(() => this.inFlight.delete(answered));
          this.inFlight.add(answered);
        },
      }),
    );
  }

  /** Listens to a broadcast (no queue group, no reply); a message that is not JSON is ignored. */
  listen(subject: string, onMessage: (body: unknown) => void): void {
    this.track(
      this.opts.nats.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          let body: unknown;
          try {
            body = JSON.parse(decoder.decode(msg.data));
          } catch {
            return;
          }
          try {
            onMessage(body);
          } catch (e) {
            this.log.error(`message on ${msg.subject} not handled: ${describe(e)}`);
          }
        },
      }),
    );
  }

  /**
   * Confirms the subscriptions with the server, then registers the health check. Await it before
   * the service counts as started: a SUB only reaches the server with the connection's next write
   * and the server handles each connection on its own, so a request another client sends the
   * moment this service reports started could otherwise find no responder (503).
   */
  async start(): Promise<void> {
    await this.confirmSubscriptions();
    this.opts.health.register(this.opts.healthCheck ?? 'api', async () => {
      const closed = this.subs.filter((sub) => sub.isClosed()).map((sub) => sub.getSubject());
      if (closed.length > 0) throw new Error(`not subscribed to ${closed.join(', ')}`);
    });
  }

  /** Stops taking requests; with `drainTimeoutMs`, lets the ones in progress answer first. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.subs.map((s) => s.drain()));
    const ms = this.opts.drainTimeoutMs;
    if (ms === undefined || this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** The subscriptions made so far (request subjects and broadcasts). */
  subscriptions(): readonly Subscription[] {
    return this.subs;
  }

  private track(sub: Subscription): void {
    this.subs.push(sub);
    void sub.closed.then(() => {
      if (!this.stopping) this.log.error(`subscription to ${sub.getSubject()} ended: this ${this.opts.service} no longer answers it`);
    });
  }

  private async confirmSubscriptions(): Promise<void> {
    const ms = this.opts.confirmTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.opts.nats.nc.flush(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`NATS did not confirm the subscriptions within ${ms} ms`)), ms);
        }),
      ]);
    } catch (err) {
      // NATS is unreachable: nats.js sends the subscriptions again when it reconnects, and /health
      // reports nats down meanwhile.
      this.log.warn(`${describe(err)}; serving once NATS is back`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async answer(msg: Msg, handle: RequestHandler<unknown>): Promise<void> {
    let reply: ServiceReply<unknown>;
    try {
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(msg.data));
      } catch {
        this.respond(msg, errorReply(400, 'invalid_json', 'request body is not JSON'));
        return;
      }
      reply = await handle(body);
    } catch (err) {
      this.log.error(`request on ${msg.subject} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      reply = errorReply(503, 'unavailable', `the ${this.opts.service} could not answer: ${describe(err)}`);
    }
    this.respond(msg, reply);
  }

  /** Sends a reply; one NATS refuses (larger than the server's max payload) becomes an error reply. */
  private respond(msg: Msg, reply: ServiceReply<unknown>): void {
    const data = encoder.encode(JSON.stringify(reply));
    try {
      msg.respond(data);
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCode.MaxPayloadExceeded) throw err;
      const max = this.opts.nats.nc.info?.max_payload ?? '?';
      this.log.error(`reply on ${msg.subject} is ${data.length} bytes, over the NATS max payload (${max} bytes)`);
      msg.respond(encoder.encode(JSON.stringify(errorReply(500, 'reply_too_large', `the reply is ${data.length} bytes, more than NATS carries (max_payload ${max} bytes)`))));
    }
  }
}

/** The 400 a request body that fails its schema gets: each issue names its field. */
export function invalidRequest(error: z.ZodError): ServiceReply<never> {
  const details = error.issues.map((i) => ({ field: formatPath(i.path), message: i.message }));
  return errorReply(400, 'invalid_request', details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
