import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { TERMINAL_EXECUTION_STATUSES, executionUpdatesSubject, type ExecutionStatus, type ExecutionUpdate, escapeNul, storableOrJsonText, storableOrJsonTextObject } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import { EventPublisher } from '@toolpath/sdk';
import type { ExecutorConfig } from '../executor.config';

const encoder = new TextEncoder();

export interface ToolCallRecord {
  tenantId: string;
  executionId: string;
  stepId: string;
  tool: string;
  parameters: Record<string, unknown>;
  result?: unknown;
  success: boolean;
  error?: string;
  startedAt: number;
  durationMs: number;
  seq: number;
}

export interface SessionEndRecord {
  tenantId: string;
  executionId: string;
  intent: string;
  success: boolean;
  result?: unknown;
  error?: string;
  startedAt: number;
  durationMs: number;
}

/**
 * What the executor tells the world: a tool-call event per attempt and a session end per run
 * (through the SDK, so the learning loop sees executor runs like any other producer), and a
 * core-NATS update per state change for live views.
 *
 * Tool-call events and updates made in one turn of the event loop (many steps' under load) go
 * out together at its end: the NATS client writes everything published before its flush in one
 * socket write, so a busy executor pays one write per turn instead of two or three per step. A
 * run's end is the exception: it is published at once, since whoever waits for it waits on it.
 */
@Injectable()
export class RunEvents implements OnApplicationShutdown {
  private readonly log = new Logger(RunEvents.name);
  private readonly publishers = new Map<string, EventPublisher>();
  private pendingUpdates: ExecutionUpdate[] = [];
  private pendingCalls: ToolCallRecord[] = [];
  private flushScheduled = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ExecutorConfig,
    private readonly nats: NatsClient,
  ) {}

  private publisher(tenantId: string): EventPublisher {
    let p = this.publishers.get(tenantId);
    if (!p) {
      p = new EventPublisher(this.nats.nc, {
        tenantId,
        subjectPrefix: this.config.TOOLPATH_SUBJECT_PREFIX,
        source: 'executor',
        onError: (err) => this.log.warn(`event not published: ${err.message}`),
      });
      this.publishers.set(tenantId, p);
    }
    return p;
  }

  /** Queues the attempt's tool_call event; it is published at the end of this turn. */
  toolCall(r: ToolCallRecord): void {
    this.pendingCalls.push(r);
    this.scheduleFlush();
  }

  sessionEnd(r: SessionEndRecord): void {
    this.safely(() =>
      this.publisher(r.tenantId).publish({
        kind: 'session_end',
        // A stable id: a finish that is retried after a crash is de-duplicated by the stream.
        eventId: `${r.executionId}-end`,
        sessionId: r.executionId,
        runId: r.executionId,
        intent: escapeNul(r.intent).slice(0, 10_000),
        success: r.success,
        // A tool's output the databases cannot keep as is (a NUL, an array in an array, a `$` or
        // dotted key) goes as its JSON text, which they store: kept, not refused.
        result: storableOrJsonText(r.result),
        error: r.error === undefined ? undefined : escapeNul(r.error).slice(0, 10_000),
        startedAt: new Date(r.startedAt).toISOString(),
        durationMs: Math.max(0, r.durationMs),
      }),
    );
  }

  /** Queues a state change for live views; a run's end is published at once (with what precedes it). */
  update(u: ExecutionUpdate): void {
    this.pendingUpdates.push(u);
    if (u.kind === 'run' && TERMINAL_EXECUTION_STATUSES.has(u.status as ExecutionStatus)) this.publishUpdates();
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushTask);
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.publishPending();
  };

  private publishPending(): void {
    // Events first: the SDK sends them from a microtask it queues now, which runs before the
    // NATS client's own flush (queued by the first update below), so both share its write.
    this.publishCalls();
    this.publishUpdates();
  }

  private publishCalls(): void {
    const calls = this.pendingCalls;
    this.pendingCalls = [];
    for (const r of calls) {
      this.safely(() =>
        this.publisher(r.tenantId).publish({
          kind: 'tool_call',
          sessionId: r.executionId,
          runId: r.executionId,
          stepId: r.stepId,
          tool: r.tool,
          parameters: storableOrJsonTextObject(r.parameters),
          result: storableOrJsonText(r.result),
          success: r.success,
          error: r.error === undefined ? undefined : escapeNul(r.error).slice(0, 10_000),
          startedAt: new Date(r.startedAt).toISOString(),
          durationMs: Math.max(0, r.durationMs),
          seq: r.seq,
        }),
      );
    }
  }

  private publishUpdates(): void {
    const batch = this.pendingUpdates;
    this.pendingUpdates = [];
    for (const u of batch) {
      try {
        this.nats.nc.publish(executionUpdatesSubject(this.config.TOOLPATH_SUBJECT_PREFIX, u.tenantId, u.executionId), encoder.encode(JSON.stringify(u)));
      } catch (err) {
        this.log.warn(`update not published: ${(err as Error).message}`);
      }
    }
  }

  private safely(publish: () => string): void {
    try {
      publish();
    } catch (err) {
      // An event too large or invalid must not fail the step that produced it.
      this.log.warn(`event refused: ${(err as Error).message}`);
    }
  }

  async flush(timeoutMs = 5000): Promise<void> {
    this.publishPending();
    await Promise.allSettled([...this.publishers.values()].map((p) => p.flush(timeoutMs)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.publishPending();
    await Promise.allSettled([...this.publishers.values()].map((p) => p.close({ timeoutMs: 3000 })));
  }
}
