import { eventsSubject } from '@toolpath/contracts';
import { AnalyzerHarness, plantedSessions } from './analyzer-harness';

/*
 * The tenant comes from the subject, and only from exactly `<prefix>.events.<tenant>`: an event on
 * `<prefix>.events.acme.x` is skipped and counted as acme's invalid event, never mined.
 */

const REVIEW = ['github.get_pr', 'github.get_diff', 'slack.post'];

describe('analyzer: an event on a subject with a token more than <prefix>.events.<tenant>', () => {
  let h: AnalyzerHarness;

  beforeAll(async () => {
    h = await AnalyzerHarness.open('an-subj');
    await h.startAnalyzer({ ANALYZER_SESSION_IDLE_MS: '1500' });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('is skipped and counted for the tenant of the subject; the tenant goes on learning', async () => {
    const published = await h.publish('acme', plantedSessions('a', 3, REVIEW));
    const body = `{"specVersion":"1","kind":"tool_call","eventId":"extra-token","tenantId":"acme","sessionId":"stray","tool":"t","success":true,"startedAt":${Date.now()},"durationMs":1}`;
    await h.nc.jetstream().publish(`${eventsSubject(h.names.subjectPrefix, 'acme')}.x`, Buffer.from(body));
    const run = await h.run('acme');
    expect(run).toMatchObject({ status: 'completed', eventsRead: published + 1, invalidEvents: 1 });
    expect(run.tenant).toMatchObject({ sessionsClosed: 3 });
    const health = await h.value('health', { tenantId: 'acme' });
    expect(health.totals).toMatchObject({ sessions: 3 });
  }, 90_000);
});
