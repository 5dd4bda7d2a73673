import { getConnectionToken } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { MongoNetworkError } from 'mongodb';
import { DEFAULT_EVENTS_STREAM } from '@toolpath/contracts';
import { ToolEventReader, ToolEventWriter, type StoredToolEvent } from '@toolpath/event-store';
import { APP_CONFIG, MetricsService, loadConfig } from '@toolpath/platform';
import {
  InMemoryCatalog,
  InMemoryDeadLetters,
  InMemoryEventStream,
  InMemoryPatternRepository,
  InMemoryRunLock,
  InMemoryRunRepository,
  InMemoryStoredEvents,
  InMemoryTenantStateRepository,
  streamMessage,
} from '../../test/in-memory-infrastructure';
import { analyzerConfigSchema } from '../analyzer.config';
import { AnalyzerMetrics } from '../analyzer.metrics';
import { INFRASTRUCTURE_PROVIDERS } from '../analyzer.providers';
import { EventStreamReader } from '../intake/event-stream.reader';
import { PatternRepository } from '../patterns/pattern.repository';
import { TenantStateRepository } from '../state/tenant-state.repository';
import { TenantStates } from '../state/tenant-states.service';
import { CatalogReader } from '../suggestions/catalog.reader';
import { SuggestionsService } from '../suggestions/suggestions.service';
import { AnalyzerRunService } from './analyzer-run.service';
import { AutoPromoter } from './auto-promoter';
import { RunLock } from './run-lock';
import { RunRepository, runView } from './run.repository';

/**
 * The run's bookkeeping with its repositories, stream and lock replaced by in-memory doubles
 * (Nest builds the service as the app does; `overrideProvider` swaps what it reaches outside).
 * What the real stores, stream and lock do is covered against infrastructure in apps/analyzer/test.
 */

const PREFIX = 'tp';
const REVIEW = ['gh.pr.get', 'gh.pr.diff', 'gh.pr.comment'];
const T0 = Date.UTC(2026, 10, 1, 9);

/** The runs below fail on purpose: their log lines are noise here. */
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

/** A database that answers (ping and a one-row read): failures then count as the events' own. */
const answeringDb = { command: async () => ({ ok: 1 }), collection: () => ({ findOne: async () => null }) };

class Infrastructure {
  readonly states = new InMemoryTenantStateRepository();
  readonly runs = new InMemoryRunRepository();
  readonly patterns = new InMemoryPatternRepository();
  readonly deadLetters = new InMemoryDeadLetters();
  readonly stream = new InMemoryEventStream();
  readonly lock = new InMemoryRunLock();
  readonly stored = new InMemoryStoredEvents();
  private seq = 0;

  /** Sessions of `tools` for a tenant, each ended, on the stream one event per 10 ms of arrival, and stored as the recorder stores them. */
  publishSessions(tenantId: string, count: number, tools: string[]): void {
    for (let s = 0; s < count; s++) {
      const sessionId = `${tenantId}-s${s}`;
      const bodies = [
        ...tools.map((tool, i) => ({ kind: 'tool_call', tool, seq: i })),
        { kind: 'session_end', seq: tools.length },
      ];
      for (const b of bodies) {
        const seq = ++this.seq;
        const at = T0 + seq * 10;
        const event = { specVersion: '1', eventId: `e${seq}`, tenantId, sessionId, success: true, startedAt: new Date(at).toISOString(), durationMs: 5, ...b };
        this.stream.messages.push(streamMessage(seq, `${PREFIX}.events.${tenantId}`, event, at));
        this.stored.rows.push({ ...event, _id: `${tenantId}:${event.eventId}`, startedAt: new Date(at), receivedAt: new Date(at), streamSeq: seq } as StoredToolEvent);
        this.stream.recorderAckFloor = seq;
      }
    }
  }
}

async function analyzer(infra: Infrastructure): Promise<TestingModule> {
  const config = loadConfig(analyzerConfigSchema, { TOOLPATH_SUBJECT_PREFIX: PREFIX, ANALYZER_MIN_SUPPORT: '3', ANALYZER_MIN_SUPPORT_SHARE: '0', ANALYZER_PROCESSING_ATTEMPTS: '2' });
  return Test.createTestingModule({
    providers: [
      { provide: APP_CONFIG, useValue: config },
      { provide: getConnectionToken(), useValue: { db: answeringDb } },
      ...INFRASTRUCTURE_PROVIDERS,
      MetricsService,
      AnalyzerMetrics,
      TenantStates,
      SuggestionsService,
      AutoPromoter,
      AnalyzerRunService,
    ],
  })
    .overrideProvider(TenantStateRepository)
    .useValue(infra.states)
    .overrideProvider(RunRepository)
    .useValue(infra.runs)
    .overrideProvider(PatternRepository)
    .useValue(infra.patterns)
    .overrideProvider(ToolEventWriter)
    .useValue(infra.deadLetters)
    .overrideProvider(ToolEventReader)
    .useValue(infra.stored)
    .overrideProvider(CatalogReader)
    .useValue(new InMemoryCatalog())
    .overrideProvider(EventStreamReader)
    .useValue(infra.stream)
    .overrideProvider(RunLock)
    .useValue(infra.lock)
    .overrideProvider(AutoPromoter)
    .useValue({ consider: () => undefined })
    .setLogger(silent)
    .compile();
}

describe('AnalyzerRunService with its infrastructure in memory', () => {
  let infra: Infrastructure;
  let app: TestingModule;
  let runs: AnalyzerRunService;

  beforeEach(async () => {
    infra = new Infrastructure();
    app = await analyzer(infra);
    runs = app.get(AnalyzerRunService);
  });
  afterEach(() => app.close());

  it('counts a run: the record inserted running and saved completed, each tenant persisted, the cursor moved, then the step acknowledged', async () => {
    infra.publishSessions('acme', 3, REVIEW);
    infra.publishSessions('globex', 1, REVIEW);
    infra.stream.serverTime = T0 + 60_000;
    const out = await runs.requested('incremental', 'acme', 5000);
    expect(out).toMatchObject({ started: true, done: true });
    if (!out.started) return;

    const id = out.run._id;
    expect(infra.runs.writes).toEqual([
      { id, status: 'running' },
      { id, status: 'completed' },
    ]);
    const stored = (await infra.runs.get(id))!;
    expect(stored).toMatchObject({ eventsRead: 16, invalidEvents: 0, alreadyCounted: 0, warnings: [] });
    expect(stored.tenants.acme).toMatchObject({ read: 12, events: 12, sessionsClosed: 3, patterns: 1 });
    expect(stored.tenants.globex).toMatchObject({ read: 4, events: 4, sessionsClosed: 1, patterns: 0 });
    // What a tenant is shown is its own share only.
    expect(runView(stored, 'globex')).toMatchObject({ eventsRead: 4, tenant: { events: 4, sessionsClosed: 1, patterns: 0 } });

    expect(infra.states.cursor).toMatchObject({ streamWatermark: 16, lastRunId: id, streamCreated: infra.stream.created });
    expect(infra.stream.ackedThrough).toBe(16);
    expect(infra.states.tenants.get('acme')?.state.watermark).toBe(12);
    expect(infra.states.tenants.get('globex')?.state.watermark).toBe(16);
    expect(infra.patterns.listed.get('acme')).toHaveLength(1);
    expect(await infra.runs.latestIncrementalId()).toBe(id);
  });

  it('reads nothing twice: a second run finds the stream caught up and counts only what arrived since', async () => {
    infra.publishSessions('acme', 3, REVIEW);
    await runs.requested('incremental', 'acme', 5000);
    infra.publishSessions('acme', 1, REVIEW);
    const second = await runs.requested('incremental', 'acme', 5000);
    if (!second.started) throw new Error('the second run did not start');
    const stored = (await infra.runs.get(second.run._id))!;
    expect(stored.eventsRead).toBe(4);
    expect(stored.tenants.acme).toMatchObject({ events: 4, alreadyCounted: 0 });
    expect(infra.stream.ackedThrough).toBe(16);
  });

  it("rebuilds the caller's tenant from the stored events on a full run: a fresh state replaces it, counted once, rows past the cursor left to the stream", async () => {
    infra.publishSessions('acme', 3, REVIEW);
    infra.publishSessions('globex', 1, REVIEW);
    infra.stream.serverTime = T0 + 60_000;
    await runs.requested('incremental', 'acme', 5000);
    const counted = infra.states.tenants.get('acme')!.state;
    // A row the recorder stored after the cursor: it reaches the analyzer through the stream.
    infra.stored.rows.push({ ...infra.stored.rows[0], _id: 'acme:late', eventId: 'late', streamSeq: 99 });

    const full = await runs.requested('full', 'acme', 5000);
    if (!full.started) throw new Error('the full run did not start');
    const stored = (await infra.runs.get(full.run._id))!;
    expect(stored).toMatchObject({ mode: 'full', tenantId: 'acme', status: 'completed', warnings: [] });
    expect(stored.tenants.acme).toMatchObject({ events: 12, sessionsClosed: 3, patterns: 1 });
    const rebuilt = infra.states.tenants.get('acme')!.state;
    expect(rebuilt).not.toBe(counted);
    expect(rebuilt).toMatchObject({ watermark: 16, lastFullRunId: full.run._id });
    expect(rebuilt.counter.patterns({ minSupport: 3 }).map((p) => p.support)).toEqual([3]);
    // Other tenants are not rebuilt, and a full run is visible only to its tenant.
    expect(stored.tenants.globex).toBeUndefined();
    expect(await infra.runs.latestIncrementalId()).not.toBe(full.run._id);
  });

  it('does not start while another analyzer holds the lock, and says which run holds it; nothing is written', async () => {
    const held = await infra.lock.tryAcquire('run_other');
    const out = await runs.requested('incremental', 'acme', 0);
    expect(out).toEqual({ started: false, holder: 'run_other' });
    expect(infra.runs.writes).toEqual([]);
    await held?.release();
  });

  it('fails the run on a database outage without acknowledging: the step is read again by the next run', async () => {
    infra.publishSessions('acme', 1, REVIEW);
    infra.states.failPersist = () => new MongoNetworkError('connection reset');
    const out = await runs.requested('incremental', 'acme', 5000);
    if (!out.started) throw new Error('the run did not start');
    const stored = (await infra.runs.get(out.run._id))!;
    expect(stored).toMatchObject({ status: 'failed', error: 'connection reset' });
    expect(infra.stream.ackedThrough).toBe(0);
    expect(infra.states.cursor?.streamWatermark ?? 0).toBe(0);
    expect(infra.deadLetters.rows.size).toBe(0);

    infra.states.failPersist = () => undefined;
    const again = await runs.requested('incremental', 'acme', 5000);
    if (!again.started) throw new Error('the second run did not start');
    expect(await infra.runs.get(again.run._id)).toMatchObject({ status: 'completed', eventsRead: 4 });
    expect(infra.stream.ackedThrough).toBe(4);
  });

  it('dead-letters the events of a tenant whose state cannot be persisted while the database answers; the other tenants are counted', async () => {
    infra.publishSessions('acme', 1, REVIEW);
    infra.publishSessions('globex', 1, REVIEW);
    infra.states.failPersist = (tenantId) => (tenantId === 'acme' ? new Error('document too large') : undefined);
    const out = await runs.requested('incremental', 'acme', 5000);
    if (!out.started) throw new Error('the run did not start');
    const stored = (await infra.runs.get(out.run._id))!;
    expect(stored.status).toBe('completed');
    expect(stored.tenants.acme).toMatchObject({ events: 0, deadLettered: 4 });
    expect(stored.tenants.globex).toMatchObject({ events: 4, sessionsClosed: 1 });
    expect([...infra.deadLetters.rows.keys()]).toEqual([1, 2, 3, 4].map((seq) => `${DEFAULT_EVENTS_STREAM}:${seq}:analyzer`));
    expect([...infra.deadLetters.rows.values()].every((r) => r.tenantId === 'acme' && r.consumer === 'analyzer' && r.attempts === 2)).toBe(true);
    expect(infra.stream.ackedThrough).toBe(8);
  });
});
