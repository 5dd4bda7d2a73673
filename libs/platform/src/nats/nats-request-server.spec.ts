import type { NatsConnection } from 'nats';
import { z } from 'zod';
import { errorReply, okReply } from '@toolpath/contracts';
import { connectTestNats, testNames } from '@toolpath/testing';
import { HealthRegistry } from '../health/health-registry';
import { NatsRequestServer } from './nats-request-server';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('NatsRequestServer (real NATS)', () => {
  let serverNc: NatsConnection;
  let clientNc: NatsConnection;

  beforeAll(async () => {
    serverNc = await connectTestNats();
    clientNc = await connectTestNats();
  });
  afterAll(async () => {
    await serverNc.close();
    await clientNc.close();
  });

  const ask = async (subject: string, body: unknown, raw?: string) => {
    const msg = await clientNc.request(subject, encoder.encode(raw ?? JSON.stringify(body)), { timeout: 5000 });
    return JSON.parse(decoder.decode(msg.data));
  };

  function newServer(health = new HealthRegistry(), drainTimeoutMs?: number) {
    const server = new NatsRequestServer({ service: 'tester', queue: 'tester', nats: { nc: serverNc }, health, confirmTimeoutMs: 2000, drainTimeoutMs });
    return { server, health, prefix: testNames('reqsrv').subjectPrefix };
  }

  it('answers from another connection the moment start() returns, validates bodies and names the field', async () => {
    const { server, prefix } = newServer();
    const Ref = z.object({ tenantId: z.string(), id: z.string().min(1) });
    server.serve(`${prefix}.get`, Ref, async (q) => okReply({ got: q.id }));
    server.serve(`${prefix}.raw`, async (body) => okReply(body));
    await server.start();
    try {
      // No wait between start() and the request: the server already has the subscriptions.
      expect(await ask(`${prefix}.get`, { tenantId: 't', id: 'a' })).toEqual({ ok: true, value: { got: 'a' } });
      expect(await ask(`${prefix}.raw`, [1, 2])).toEqual({ ok: true, value: [1, 2] });
      expect(await ask(`${prefix}.get`, null, '{not json')).toEqual({ ok: false, error: { status: 400, code: 'invalid_json', message: 'request body is not JSON' } });
      const bad = await ask(`${prefix}.get`, { tenantId: 't', id: '' });
      expect(bad).toMatchObject({ ok: false, error: { status: 400, code: 'invalid_request', message: expect.stringMatching(/^id: /), details: [{ field: 'id' }] } });
    } finally {
      await server.stop();
    }
  });

  it('answers a throwing or rejecting handler and an oversized reply with an error, and keeps serving', async () => {
    const { server, prefix } = newServer();
    let mode: 'throw' | 'reject' | 'huge' | 'ok' = 'throw';
    server.serve(`${prefix}.x`, (() => {
      if (mode === 'throw') throw new Error('thrown, not rejected');
      if (mode === 'reject') return Promise.reject(new Error('store went away'));
      if (mode === 'huge') return Promise.resolve(okReply('x'.repeat(2 * 1024 * 1024)));
      return Promise.resolve(errorReply(409, 'conflict', 'taken', { holder: 'h' }));
    }) as never);
    await server.start();
    try {
      expect(await ask(`${prefix}.x`, {})).toEqual({ ok: false, error: { status: 503, code: 'unavailable', message: 'the tester could not answer: thrown, not rejected' } });
      mode = 'reject';
      expect(await ask(`${prefix}.x`, {})).toMatchObject({ ok: false, error: { status: 503, message: expect.stringContaining('store went away') } });
      mode = 'huge';
      expect(await ask(`${prefix}.x`, {})).toMatchObject({ ok: false, error: { status: 500, code: 'reply_too_large' } });
      mode = 'ok';
      expect(await ask(`${prefix}.x`, {})).toEqual({ ok: false, error: { status: 409, code: 'conflict', message: 'taken', details: { holder: 'h' } } });
      expect(server.subscriptions().every((s) => !s.isClosed())).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('reports the health check down naming a subscription that ended', async () => {
    const { server, health, prefix } = newServer();
    server.serve(`${prefix}.a`, async () => okReply(1));
    server.serve(`${prefix}.b`, async () => okReply(2));
    server.listen(`${prefix}.broadcast`, () => undefined);
    await server.start();
    const check = health.entries().find(([name]) => name === 'api')![1];
    await expect(check()).resolves.toBeUndefined();
    server.subscriptions().find((s) => s.getSubject() === `${prefix}.b`)!.unsubscribe();
    await expect(check()).rejects.toThrow(`not subscribed to ${prefix}.b`);
    await server.stop();
  });

  it('hands broadcasts to listen() and survives one that is not JSON or a listener that throws', async () => {
    const { server, prefix } = newServer();
    const seen: unknown[] = [];
    server.listen(`${prefix}.abort`, (body) => {
      if ((body as { boom?: boolean }).boom) throw new Error('listener failed');
      seen.push(body);
    });
    server.serve(`${prefix}.ping`, async () => okReply('pong'));
    await server.start();
    try {
      clientNc.publish(`${prefix}.abort`, encoder.encode('{nope'));
      clientNc.publish(`${prefix}.abort`, encoder.encode(JSON.stringify({ boom: true })));
      clientNc.publish(`${prefix}.abort`, encoder.encode(JSON.stringify({ id: 'e1' })));
      // Replies on the same connection come after the broadcasts it has already delivered.
      expect(await ask(`${prefix}.ping`, {})).toEqual({ ok: true, value: 'pong' });
      expect(seen).toEqual([{ id: 'e1' }]);
      expect(server.subscriptions().every((s) => !s.isClosed())).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('stop() lets a request in progress answer when drainTimeoutMs is set', async () => {
    const { server, prefix } = newServer(new HealthRegistry(), 5000);
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      server.serve(`${prefix}.slow`, async () => {
        resolve();
        await new Promise<void>((r) => (release = r));
        return okReply('done');
      });
    });
    await server.start();
    const answer = ask(`${prefix}.slow`, {});
    await started;
    const stopped = server.stop();
    let stoppedYet = false;
    void stopped.then(() => (stoppedYet = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(stoppedYet).toBe(false);
    release();
    await stopped;
    expect(await answer).toEqual({ ok: true, value: 'done' });
    await expect(clientNc.request(`${prefix}.slow`, encoder.encode('{}'), { timeout: 1000 })).rejects.toThrow();
  });
});
