import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { MAX_EVENT_BYTES, eventsSubject, type ToolEventInput } from '@toolpath/contracts';
import { connectTestNats, createTestEventsStream, deleteTestStream, testNames, testUrls, waitFor, type TestNames } from '@toolpath/testing';
import { EventPublisher } from './event-publisher';
import { EventDroppedError, EventTooLargeError, InvalidEventError, PublisherClosedError } from './errors';

const call = (over: Partial<ToolEventInput> = {}): ToolEventInput =>
  ({ kind: 'tool_call', sessionId: 's1', tool: 'fs.read', success: true, startedAt: Date.now(), durationMs: 3, ...over }) as ToolEventInput;

async function storedMessages(nc: NatsConnection, names: TestNames) {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(names.stream);
  const out = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(names.stream, { seq });
    out.push({ subject: msg.subject, msgId: msg.header?.get('Nats-Msg-Id'), event: msg.json<Record<string, unknown>>() });
  }
  return out;
}

async function streamCount(nc: NatsConnection, names: TestNames): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(names.stream)).state.messages;
}

describe('EventPublisher against NATS', () => {
  let nc: NatsConnection;
  let names: TestNames;
  let publisher: EventPublisher | undefined;

  beforeEach(async () => {
    nc = await connectTestNats();
    names = testNames('sdkpub');
    await createTestEventsStream(nc, names);
  });

  afterEach(async () => {
    await publisher?.close({ timeoutMs: 2000 });
    publisher = undefined;
    await deleteTestStream(nc, names);
    await nc.close();
  });

  it('publishes a v1 event on <prefix>.events.<tenant> with the Nats-Msg-Id header', async () => {
    publisher = EventPublisher.connect({ servers: testUrls.nats, tenantId: 'acme', subjectPrefix: names.subjectPrefix, source: 'svc-a' });
    const eventId = publisher.publish(call({ parameters: { path: '/etc/hosts' }, result: { bytes: 12 }, seq: 0 }));
    await publisher.flush(5000);

    const [stored, ...rest] = await storedMessages(nc, names);
    expect(rest).toHaveLength(0);
    expect(stored.subject).toBe(eventsSubject(names.subjectPrefix, 'acme'));
    expect(stored.msgId).toBe(`acme:${eventId}`);
    expect(stored.event).toMatchObject({
      specVersion: '1',
      kind: 'tool_call',
      eventId,
      tenantId: 'acme',
      sessionId: 's1',
      tool: 'fs.read',
      parameters: { path: '/etc/hosts' },
      result: { bytes: 12 },
      success: true,
      durationMs: 3,
      seq: 0,
      source: 'svc-a',
    });
    expect(publisher.stats()).toMatchObject({ published: 1, pending: 0, inFlight: 0 });
  });

  it('stores an eventId published twice once', async () => {
    publisher = new EventPublisher(nc, { tenantId: 'acme', subjectPrefix: names.subjectPrefix });
    publisher.publish(call({ eventId: 'same-id' }));
    await publisher.flush(5000);
    publisher.publish(call({ eventId: 'same-id', durationMs: 99 }));
    await publisher.flush(5000);

    expect(await streamCount(nc, names)).toBe(1);
    expect(publisher.stats()).toMatchObject({ published: 2, duplicates: 1 });
  });

  it('flush resolves only when every queued event is acknowledged', async () => {
    publisher = new EventPublisher(nc, { tenantId: 'acme', subjectPrefix: names.subjectPrefix, maxInFlight: 16 });
    for (let i = 0; i < 2000; i++) publisher.publish(call({ seq: i }));
    expect(publisher.stats().pending).toBe(2000);
    await publisher.flush(10_000);
    expect(publisher.stats()).toMatchObject({ published: 2000, pending: 0, inFlight: 0 });
    expect(await streamCount(nc, names)).toBe(2000);
  });

  it('close flushes, drains its own connection and refuses later publishes', async () => {
    const pub = EventPublisher.connect({ servers: testUrls.nats, tenantId: 'acme', subjectPrefix: names.subjectPrefix });
    for (let i = 0; i < 300; i++) pub.publish(call({ seq: i }));
    await pub.close();
    expect(await streamCount(nc, names)).toBe(300);
    expect(pub.stats()).toMatchObject({ published: 300, droppedOnClose: 0 });
    expect(pub.isConnected).toBe(false);
    expect(() => pub.publish(call())).toThrow(PublisherClosedError);
    await pub.close(); // idempotent
  });

  it('leaves a borrowed connection open on close', async () => {
    const pub = new EventPublisher(nc, { tenantId: 'acme', subjectPrefix: names.subjectPrefix });
    pub.publish(call());
    await pub.close();
    expect(nc.isClosed()).toBe(false);
    expect(await streamCount(nc, names)).toBe(1);
  });

  it('refuses and counts too-large and invalid events with a clear error', async () => {
    publisher = new EventPublisher(nc, { tenantId: 'acme', subjectPrefix: names.subjectPrefix });
    expect(() => publisher!.publish(call({ result: 'x'.repeat(MAX_EVENT_BYTES + 1) }))).toThrow(EventTooLargeError);
    expect(() => publisher!.publish(call({ durationMs: -5 }))).toThrow(InvalidEventError);
    expect(() => publisher!.publish(call({ tenantId: 'other' }))).toThrow(InvalidEventError);
    await publisher.flush(1000);
    expect(publisher.stats()).toMatchObject({ tooLarge: 1, invalid: 2, published: 0 });
    expect(await streamCount(nc, names)).toBe(0);
  });

  it('publishes values JSON cannot hold instead of throwing', async () => {
    publisher = new EventPublisher(nc, { tenantId: 'acme', subjectPrefix: names.subjectPrefix });
    const loop: Record<string, unknown> = { id: 1 };
    loop.me = loop;
    publisher.publish(call({ parameters: { n: 2n ** 70n }, result: loop }));
    await publisher.flush(5000);
    const [stored] = await storedMessages(nc, names);
    expect(stored.event.parameters).toEqual({ n: (2n ** 70n).toString() });
    expect(stored.event.result).toEqual({ id: 1, me: '[Circular]' });
  });

  it('retries a failing publish with backoff, then drops and counts it', async () => {
    const errors: Error[] = [];
    publisher = new EventPublisher(nc, {
      tenantId: 'acme',
      subjectPrefix: `${names.subjectPrefix}_nostream`,
      maxRetries: 2,
      retryBackoffMs: 10,
      publishTimeoutMs: 500,
      onError: (err) => errors.push(err),
    });
    const eventId = publisher.publish(call());
    await publisher.flush(10_000);
    expect(publisher.stats()).toMatchObject({ published: 0, droppedAfterRetries: 1, pending: 0, inFlight: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(EventDroppedError);
    expect(errors[0]).toMatchObject({ reason: 'retries_exhausted', eventId });
  });

  it('never blocks while NATS is unreachable: fills the bounded buffer, then drops and counts', async () => {
    const errors: Error[] = [];
    const pub = EventPublisher.connect({
      servers: 'nats://127.0.0.1:1',
      tenantId: 'acme',
      maxBuffer: 5,
      reconnectTimeWaitMs: 50,
      onError: (err) => errors.push(err),
    });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) pub.publish(call({ seq: i }));
    const elapsedMs = performance.now() - t0;

    expect(elapsedMs).toBeLessThan(500);
    expect(pub.isConnected).toBe(false);
    expect(pub.stats()).toMatchObject({ pending: 5, droppedBufferFull: 995, published: 0 });
    // One report per streak of drops, not one per event.
    expect(errors.filter((e) => e instanceof EventDroppedError)).toHaveLength(1);

    await expect(pub.flush(100)).rejects.toThrow(/flush timed out/);
    await pub.close({ timeoutMs: 100 });
    expect(pub.stats()).toMatchObject({ pending: 0, droppedOnClose: 5 });
    await expect(pub.ready()).rejects.toThrow(PublisherClosedError);
  });

  const natsServerBin = process.env.NATS_SERVER_BIN ?? join(homedir(), '.cache/toolpath/bin/nats-server');
  (existsSync(natsServerBin) ? it : it.skip)('queues while NATS is down, delivers once it is up, and again after a restart', async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const pub = EventPublisher.connect({ servers: url, tenantId: 'acme', subjectPrefix: names.subjectPrefix, reconnectTimeWaitMs: 100 });
    for (let i = 0; i < 3; i++) pub.publish(call({ seq: i }));
    expect(pub.stats().pending).toBe(3);

    // A private nats-server (file storage, so the stream survives its restart).
    const storeDir = mkdtempSync(join(tmpdir(), 'tp-sdk-nats-'));
    const start = () => spawn(natsServerBin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
    const stop = (child: ChildProcess) => new Promise<void>((resolve) => child.once('exit', () => resolve()).kill());
    let server: ChildProcess | undefined;
    try {
      server = start();
      const admin = await waitFor(() => connect({ servers: url }), { timeoutMs: 10_000, what: 'the private nats-server' });
      await createTestEventsStream(admin, names, { storage: 'file' });
      await admin.close();
      await pub.ready(10_000);
      await pub.flush(10_000);

      await stop(server);
      await waitFor(() => !pub.isConnected, { what: 'the publisher to notice the restart' });
      for (let i = 3; i < 6; i++) pub.publish(call({ seq: i }));
      server = start();
      await pub.flush(15_000);
      expect(pub.stats()).toMatchObject({ published: 6, droppedAfterRetries: 0 });

      const check = await connect({ servers: url });
      expect(await streamCount(check, names)).toBe(6);
      await check.close();
      await pub.close();
    } finally {
      await pub.close({ timeoutMs: 100 });
      if (server) await stop(server);
      rmSync(storeDir, { recursive: true, force: true });
    }
  });

  it('counts what is published after a borrowed connection closed under it', async () => {
    const own = await connectTestNats();
    const errors: Error[] = [];
    const pub = new EventPublisher(own, { tenantId: 'acme', subjectPrefix: names.subjectPrefix, onError: (e) => errors.push(e) });
    await own.close();
    await waitFor(() => errors.length > 0, { what: 'the closed connection to be reported' });
    expect(pub.publish(call())).toEqual(expect.any(String));
    expect(pub.stats()).toMatchObject({ droppedOnClose: 1, pending: 0 });
    await pub.close({ timeoutMs: 100 });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
