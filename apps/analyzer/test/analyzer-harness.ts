import { MongoClient, type Db } from 'mongodb';
import { JSONCodec, type NatsConnection } from 'nats';
import { analyzerSubjects, eventsSubject, type AnalyzerRunView, type ExecutorReply, type ToolEventInput } from '@toolpath/contracts';
import { EventPublisher } from '@toolpath/sdk';
import {
  connectTestNats,
  createTestEventsStream,
  deleteTestStream,
  isolatedEnv,
  startService,
  testNames,
  testUrls,
  waitFor,
  type ServiceProcess,
  type TestNames,
} from '@toolpath/testing';

const codec = JSONCodec<unknown>();

/** Processes still running; killed if the test process exits without its afterAll. */
const liveChildren = new Set<ServiceProcess>();
process.once('exit', () => {
  for (const p of liveChildren) p.proc.kill('SIGKILL');
});

export type Subject = keyof ReturnType<typeof analyzerSubjects>;

/** One session as a producer publishes it: tool calls (with unrelated ones wherever asked) and a session_end. */
export interface SessionSpec {
  sessionId: string;
  tools: string[];
  intent?: string;
  success?: boolean;
  userId?: string;
  agentId?: string;
  /** Leave out the session_end (the session then closes by idleness). */
  open?: boolean;
  startedAt?: number;
}

export function sessionEvents(s: SessionSpec): ToolEventInput[] {
  const t0 = s.startedAt ?? Date.now() - 60_000;
  const events: ToolEventInput[] = s.tools.map((tool, i) => ({
    kind: 'tool_call',
    sessionId: s.sessionId,
    seq: i,
    tool,
    parameters: { step: i, ref: `${s.sessionId}-${i}` },
    result: { id: `${s.sessionId}-r${i}` },
    success: true,
    startedAt: t0 + i * 100,
    durationMs: 20 + i,
    ...(s.userId ? { userId: s.userId } : {}),
    ...(s.agentId ? { agentId: s.agentId } : {}),
    ...(s.intent ? { intent: s.intent } : {}),
  }));
  if (!s.open) {
    events.push({
      kind: 'session_end',
      sessionId: s.sessionId,
      seq: s.tools.length,
      success: s.success ?? true,
      startedAt: t0,
      durationMs: s.tools.length * 100,
      ...(s.intent ? { intent: s.intent } : {}),
      ...(s.userId ? { userId: s.userId } : {}),
      ...(s.agentId ? { agentId: s.agentId } : {}),
    });
  }
  return events;
}

/** `count` sessions running `tools`, each with an unrelated call after the first step (a gap). */
export function plantedSessions(prefix: string, count: number, tools: string[], over: Partial<SessionSpec> = {}): SessionSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const withNoise = [tools[0], `noise.${prefix}.${i % 5}`, ...tools.slice(1)];
    return { sessionId: `${prefix}-${i}`, tools: withNoise, ...over };
  });
}

/**
 * One test's world: its own stream, subject prefix, database and Redis lock key (the prefix), and
 * every analyzer/recorder process it starts, all torn down by `close()`.
 */
export class AnalyzerHarness {
  readonly names: TestNames;
  readonly processes: ServiceProcess[] = [];
  nc!: NatsConnection;
  mongo!: MongoClient;
  private readonly publishers: EventPublisher[] = [];

  private constructor(label: string) {
    this.names = testNames(label);
  }

  static async open(label: string): Promise<AnalyzerHarness> {
    const h = new AnalyzerHarness(label);
    try {
      h.nc = await connectTestNats();
      h.mongo = await MongoClient.connect(testUrls.mongo, { serverSelectionTimeoutMS: 5000 });
      await createTestEventsStream(h.nc, h.names, { storage: 'file' });
    } catch (err) {
      await h.close();
      throw err;
    }
    return h;
  }

  get db(): Db {
    return this.mongo.db(this.names.mongoDb);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return { ...isolatedEnv(this.names), ANALYZER_SCHEDULE: 'off', ANALYZER_LOCK_TTL_MS: '3000', ...extra };
  }

  async startAnalyzer(env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.track(await startService('analyzer', this.env(env)));
  }

  async startRecorder(env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.track(await startService('recorder', { ...isolatedEnv(this.names), RECORDER_BATCH_WINDOW_MS: '20', ...env }));
  }

  /** Publishes sessions through the SDK (as any producer would) and waits for every ack. */
  async publish(tenantId: string, sessions: SessionSpec[]): Promise<number> {
    const pub = new EventPublisher(this.nc, { tenantId, subjectPrefix: this.names.subjectPrefix, maxBuffer: 200_000 });
    this.publishers.push(pub);
    let n = 0;
    for (const s of sessions) {
      for (const e of sessionEvents(s)) {
        pub.publish(e);
        n++;
      }
    }
    await pub.flush(60_000);
    const stats = pub.stats();
    const dropped = stats.droppedBufferFull + stats.droppedAfterRetries + stats.invalid + stats.tooLarge;
    if (dropped > 0) throw new Error(`publisher dropped or refused ${dropped} events`);
    return n;
  }

  /** Publishes events as given (in this order) through the SDK and waits for every ack. */
  async publishEvents(tenantId: string, events: ToolEventInput[]): Promise<number> {
    const pub = new EventPublisher(this.nc, { tenantId, subjectPrefix: this.names.subjectPrefix, maxBuffer: 200_000 });
    this.publishers.push(pub);
    for (const e of events) pub.publish(e);
    await pub.flush(60_000);
    const stats = pub.stats();
    const dropped = stats.droppedBufferFull + stats.droppedAfterRetries + stats.invalid + stats.tooLarge;
    if (dropped > 0) throw new Error(`publisher dropped or refused ${dropped} events`);
    return events.length;
  }

  /** Raw bytes on a tenant's subject (what a producer bypassing the SDK might send). */
  async publishRaw(tenantId: string, data: string): Promise<void> {
    await this.nc.jetstream().publish(eventsSubject(this.names.subjectPrefix, tenantId), Buffer.from(data));
  }

  /** A request to the analyzer's NATS API; returns the reply as sent. */
  async ask<T = any>(subject: Subject, body: unknown, timeoutMs = 30_000): Promise<ExecutorReply<T>> {
    const msg = await this.nc.request(analyzerSubjects(this.names.subjectPrefix)[subject], codec.encode(body), { timeout: timeoutMs });
    return codec.decode(msg.data) as ExecutorReply<T>;
  }

  /** The value of a successful reply, or a thrown error with the analyzer's message. */
  async value<T = any>(subject: Subject, body: unknown, timeoutMs?: number): Promise<T> {
    const r = await this.ask<T>(subject, body, timeoutMs);
    if (!r.ok) throw new Error(`${subject} answered ${r.error.status}: ${r.error.message}`);
    return r.value;
  }

  /** Runs the analyzer now and waits for the run to end. */
  async run(tenantId: string, mode: 'incremental' | 'full' = 'incremental'): Promise<AnalyzerRunView> {
    const run = await this.value<AnalyzerRunView>('run', { tenantId, mode, waitMs: 60_000 }, 70_000);
    if (run.status !== 'completed') throw new Error(`run ${run.id} ended ${run.status}: ${run.error ?? ''}`);
    return run;
  }

  async patterns(tenantId: string, q: Record<string, unknown> = {}): Promise<Array<{ id: string; tools: string[]; support: number; [k: string]: unknown }>> {
    return (await this.value('listPatterns', { tenantId, limit: 200, ...q })).items;
  }

  async consumerInfo() {
    const jsm = await this.nc.jetstreamManager();
    return jsm.consumers.info(this.names.stream, 'analyzer');
  }

  async allRecorded(): Promise<boolean> {
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.consumers.info(this.names.stream, 'recorder');
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }

  async waitForLog(p: ServiceProcess, text: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => p.output().includes(text), { timeoutMs, what: `"${text}" in ${p.name}'s output` });
  }

  private track(p: ServiceProcess): ServiceProcess {
    this.processes.push(p);
    liveChildren.add(p);
    p.proc.once('exit', () => liveChildren.delete(p));
    return p;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.processes.map((p) => p.stop(10_000)));
    await Promise.allSettled(this.publishers.map((p) => p.close({ timeoutMs: 2000 })));
    if (this.nc) {
      await deleteTestStream(this.nc, this.names);
      await this.nc.close();
    }
    if (this.mongo) {
      await this.mongo.db(this.names.mongoDb).dropDatabase().catch(() => undefined);
      await this.mongo.close();
    }
  }
}
