import type { ToolEventInput } from '@toolpath/contracts';
import type { ServiceProcess } from '@toolpath/testing';
import { AnalyzerHarness, plantedSessions, sessionEvents } from './analyzer-harness';

/*
 * One tenant's poison message never stops another's learning. An event passes decoding but
 * counting it throws (the test-only fault hook TOOLPATH_FAULT_POISON_TOOL on a real analyzer):
 * the tenant's step is split until that event is alone, it gets ANALYZER_PROCESSING_ATTEMPTS tries,
 * then it is dead-lettered (`processing_failed`, `<stream>:<seq>:analyzer`) and skipped. The other
 * tenant, and the poisoned tenant's other events, are counted once; the consumer is acknowledged
 * past the poison, and the next run neither re-reads nor re-dead-letters it.
 */

const POISON_TOOL = 'test.poison';
const REVIEW = ['github.get_pr', 'github.get_diff', 'slack.post'];

async function metric(p: ServiceProcess, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('analyzer: a poison message of one tenant', () => {
  let h: AnalyzerHarness;
  let analyzer: ServiceProcess;

  beforeAll(async () => {
    h = await AnalyzerHarness.open('an-poison');
    analyzer = await h.startAnalyzer({ TOOLPATH_FAULT_POISON_TOOL: POISON_TOOL, ANALYZER_PROCESSING_ATTEMPTS: '3', ANALYZER_SESSION_IDLE_MS: '1500' });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('is dead-lettered after its bounded tries; both tenants learn everything else, once', async () => {
    const acme = plantedSessions('a', 4, REVIEW);
    const globex = plantedSessions('g', 4, REVIEW);
    // The poison amid acme's events, inside one of its sessions, and globex's events around it.
    const acmeEvents: ToolEventInput[] = [...sessionEvents(acme[0]).slice(0, 2)];
    acmeEvents.push({ kind: 'tool_call', sessionId: acme[0].sessionId, seq: 50, tool: POISON_TOOL, success: true, startedAt: Date.now() - 59_000, durationMs: 1 });
    acmeEvents.push(...sessionEvents(acme[0]).slice(2));
    await h.publish('globex', globex.slice(0, 2));
    await h.publishEvents('acme', acmeEvents);
    await h.publish('acme', acme.slice(1));
    await h.publish('globex', globex.slice(2));

    const run = await h.run('globex');
    expect(run).toMatchObject({ status: 'completed', eventsRead: sessionEvents(globex[0]).length * 4, invalidEvents: 0 });
    expect(run.tenant).toMatchObject({ sessionsClosed: 4 });
    expect((await h.value('health', { tenantId: 'globex' })).totals).toMatchObject({ sessions: 4 });
    const acmeHealth = await h.value('health', { tenantId: 'acme' });
    expect(acmeHealth.totals).toMatchObject({ sessions: 4 });
    expect((await h.patterns('acme')).map((p) => p.tools)).toContainEqual(REVIEW);
    expect((await h.patterns('globex')).map((p) => p.tools)).toContainEqual(REVIEW);

    // The poison's dead letter: its bytes, its reason, the tries; the consumer moved past it.
    const letters = await h.db.collection('rejected_events').find({ consumer: 'analyzer' }).toArray();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'processing_failed', tenantId: 'acme', attempts: 3 });
    expect(letters[0]._id).toBe(`${h.names.stream}:${letters[0].streamSeq}:analyzer`);
    expect(JSON.parse(Buffer.from(letters[0].raw.buffer).toString())).toMatchObject({ tool: POISON_TOOL, tenantId: 'acme' });
    const info = await h.consumerInfo();
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    expect(await metric(analyzer, 'toolpath_analyzer_events_dead_lettered_total{reason="processing_failed"}')).toBe(1);

    // The next run has nothing to re-read: nothing counted twice, no second dead letter.
    const again = await h.run('acme');
    expect(again).toMatchObject({ status: 'completed', eventsRead: 0 });
    expect((await h.value('health', { tenantId: 'acme' })).totals).toMatchObject({ sessions: 4 });
    expect(await h.db.collection('rejected_events').countDocuments({ consumer: 'analyzer' })).toBe(1);
    expect(await metric(analyzer, 'toolpath_analyzer_events_dead_lettered_total{reason="processing_failed"}')).toBe(1);
  }, 30_000);
});
