import { headers as natsHeaders } from 'nats';
import { RejectReason, eventsSubject } from '@toolpath/contracts';
import { waitFor, type ServiceProcess } from '@toolpath/testing';
import { RecorderHarness, RecorderMetricNames, scrapeMetrics } from './recorder-harness';

const TENANT = 'acme';

/** The tenant comes from the subject, and only from exactly `<prefix>.events.<tenant>`. */
describe('recorder process: events on a subject that is not exactly <prefix>.events.<tenant>', () => {
  let h: RecorderHarness;
  let recorder: ServiceProcess;
  const body = (eventId: string) =>
    JSON.stringify({ specVersion: '1', kind: 'tool_call', eventId, tenantId: TENANT, sessionId: 's1', tool: 't', success: true, startedAt: 1_795_000_000_000, durationMs: 1 });
  const publishOn = async (subject: string, eventId: string) => {
    const hdrs = natsHeaders();
    hdrs.set('Nats-Msg-Id', `${subject}:${eventId}`);
    await h.js.publish(subject, Buffer.from(body(eventId)), { headers: hdrs, timeout: 10_000 });
  };

  beforeAll(async () => {
    h = await RecorderHarness.open('subj');
    const exact = eventsSubject(h.names.subjectPrefix, TENANT);
    await publishOn(exact, 'good');
    await publishOn(`${exact}.x`, 'extra-token');
    await publishOn(`${exact}.x.y`, 'two-tokens');
    recorder = await h.startRecorder();
    await waitFor(() => h.allAcknowledged(), { timeoutMs: 30_000, what: 'every message acknowledged' }).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await h.diagnostics()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('stores only the event on the exact subject', async () => {
    expect(await h.storedIds()).toEqual([`${TENANT}:good`]);
  });

  it('dead-letters the others as invalid_subject, filed under the tenant of the subject, naming the subject', async () => {
    const rows = await h.db
      .collection<{ reason: string; field: string; tenantId: string | null; subject: string; eventId: string | null; message: string }>('rejected_events')
      .find({})
      .sort({ streamSeq: 1 })
      .toArray();
    const exact = h.subject(TENANT);
    expect(rows.map(({ reason, field, tenantId, subject, eventId }) => ({ reason, field, tenantId, subject, eventId }))).toEqual([
      { reason: RejectReason.InvalidSubject, field: '(subject)', tenantId: TENANT, subject: `${exact}.x`, eventId: 'extra-token' },
      { reason: RejectReason.InvalidSubject, field: '(subject)', tenantId: TENANT, subject: `${exact}.x.y`, eventId: 'two-tokens' },
    ]);
    expect(rows[0].message).toContain(`"${exact}.x"`);
    const metrics = await scrapeMetrics(recorder);
    expect(metrics.get(RecorderMetricNames.rejected(RejectReason.InvalidSubject))).toBe(2);
  });
});
