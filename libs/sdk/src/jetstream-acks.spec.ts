import type { NatsConnection } from 'nats';
import { eventsSubject } from '@toolpath/contracts';
import { connectTestNats, createTestEventsStream, deleteTestStream, testNames, type TestNames } from '@toolpath/testing';
import { JetStreamAcks, PublishAckError } from './jetstream-acks';

const data = (s: string) => new TextEncoder().encode(s);

describe('JetStreamAcks against NATS', () => {
  let nc: NatsConnection;
  let names: TestNames;
  let acks: JetStreamAcks;

  beforeEach(async () => {
    nc = await connectTestNats();
    names = testNames('sdkacks');
    await createTestEventsStream(nc, names);
    acks = new JetStreamAcks(nc);
  });

  afterEach(async () => {
    acks.close();
    await deleteTestStream(nc, names);
    await nc.close();
  });

  it('resolves with the stream and sequence of each message, and stores it with its msg id', async () => {
    const subject = eventsSubject(names.subjectPrefix, 'acme');
    const [a, b] = await Promise.all([acks.publish(subject, data('{"n":1}'), 'm-1', 5000), acks.publish(subject, data('{"n":2}'), 'm-2', 5000)]);
    expect(a).toMatchObject({ stream: names.stream, seq: 1, duplicate: false });
    expect(b).toMatchObject({ stream: names.stream, seq: 2, duplicate: false });
    const jsm = await nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(names.stream, { seq: 2 });
    expect(stored.header?.get('Nats-Msg-Id')).toBe('m-2');
    expect(stored.json()).toEqual({ n: 2 });
    expect(acks.size).toBe(0);
  });

  it('reports a message id seen before as a duplicate, stored once', async () => {
    const subject = eventsSubject(names.subjectPrefix, 'acme');
    await acks.publish(subject, data('{}'), 'same', 5000);
    const again = await acks.publish(subject, data('{}'), 'same', 5000);
    expect(again.duplicate).toBe(true);
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(names.stream)).state.messages).toBe(1);
  });

  it('rejects with no_stream when no stream takes the subject', async () => {
    const err = await acks.publish(`${names.subjectPrefix}.nothing.here`, data('{}'), 'x', 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishAckError);
    expect((err as PublishAckError).code).toBe('no_stream');
    expect((err as Error).message).toBe(`no stream takes subject ${names.subjectPrefix}.nothing.here (503 no responders)`);
  });

  it('rejects with timeout when the answer does not come in time, and forgets the message', async () => {
    // A plain subscriber takes the subject (so no 503) and never answers.
    const silent = nc.subscribe(`${names.subjectPrefix}.silent`);
    await nc.flush();
    const t0 = Date.now();
    const err = await acks.publish(`${names.subjectPrefix}.silent`, data('{}'), 'y', 150).catch((e: unknown) => e);
    expect((err as PublishAckError).code).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(acks.size).toBe(0);
    silent.unsubscribe();
  });

  it('rejects with jetstream when the stream refuses the message, naming the reason', async () => {
    const jsm = await nc.jetstreamManager();
    const small = `${names.stream}_small`;
    await jsm.streams.add({ name: small, subjects: [`${names.subjectPrefix}.small`], max_msg_size: 16 });
    try {
      const err = await acks.publish(`${names.subjectPrefix}.small`, data(JSON.stringify({ text: 'x'.repeat(100) })), 'big', 5000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishAckError);
      expect((err as PublishAckError).code).toBe('jetstream');
      expect((err as Error).message).toMatch(/refused the event: .*maximum/i);
    } finally {
      await jsm.streams.delete(small);
    }
  });

  it('rejects what is still awaited on close', async () => {
    const silent = nc.subscribe(`${names.subjectPrefix}.silent2`);
    await nc.flush();
    const pending = acks.publish(`${names.subjectPrefix}.silent2`, data('{}'), 'z', 60_000).catch((e: unknown) => e);
    acks.close('closing now');
    const err = await pending;
    expect(err).toBeInstanceOf(PublishAckError);
    expect((err as Error).message).toBe('closing now');
    silent.unsubscribe();
  });
});
