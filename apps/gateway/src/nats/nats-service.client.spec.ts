import type { NatsConnection } from 'nats';
import { errorReply, okReply, type ServiceReply } from '@toolpath/contracts';
import { toErrorBody, type NatsClient } from '@toolpath/platform';
import { connectTestNats, testNames } from '@toolpath/testing';
import { NatsServiceClient } from './nats-service.client';

const encoder = new TextEncoder();

describe('NatsServiceClient (real NATS)', () => {
  let nc: NatsConnection;
  let prefix: string;

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  beforeEach(() => {
    prefix = testNames('svcclient').subjectPrefix;
  });
  afterAll(async () => {
    await nc.close();
  });

  const client = (timeoutStatus?: 503 | 504) => new NatsServiceClient({ nc } as NatsClient, { service: 'analyzer', timeoutMs: 500, timeoutStatus });

  /** Answers every request on `subject` with `raw` (or does not answer at all). */
  async function responder(subject: string, raw: string | null): Promise<void> {
    nc.subscribe(subject, { callback: (_, msg) => raw !== null && msg.respond(encoder.encode(raw)), max: 1 });
    await nc.flush();
  }
  const reply = (r: ServiceReply<unknown>) => JSON.stringify(r);
  const failure = async (p: Promise<unknown>) => toErrorBody(await p.then(() => new Error('resolved'), (e: unknown) => e));

  it('returns the value of an ok reply', async () => {
    await responder(`${prefix}.ok`, reply(okReply({ a: 1 })));
    await expect(client().request(`${prefix}.ok`, {})).resolves.toEqual({ a: 1 });
  });

  it('maps an error reply to its status and message; field issues pass as they are, other details carry the code', async () => {
    await responder(`${prefix}.issues`, reply(errorReply(404, 'not_found', 'no run "r"', [{ field: 'id', message: 'unknown run' }])));
    expect(await failure(client().request(`${prefix}.issues`, {}))).toEqual({ statusCode: 404, error: 'Not Found', message: 'no run "r"', details: [{ field: 'id', message: 'unknown run' }] });
    await responder(`${prefix}.object`, reply(errorReply(409, 'run_in_progress', 'busy', { runId: 'r1' })));
    expect(await failure(client().request(`${prefix}.object`, {}))).toEqual({ statusCode: 409, error: 'Conflict', message: 'busy', details: { code: 'run_in_progress', runId: 'r1' } });
    await responder(`${prefix}.none`, reply(errorReply(429, 'busy', 'try later')));
    expect(await failure(client().request(`${prefix}.none`, {}))).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'try later', details: { code: 'busy' } });
    await responder(`${prefix}.odd`, reply(errorReply(200, 'weird', 'not an error status')));
    expect((await failure(client().request(`${prefix}.odd`, {}))).statusCode).toBe(502);
  });

  it('is a 502 when the answer is not a reply', async () => {
    await responder(`${prefix}.junk`, JSON.stringify({ hello: 'world' }));
    expect(await failure(client().request(`${prefix}.junk`, {}))).toMatchObject({ statusCode: 502, message: `the analyzer answered ${prefix}.junk with something that is not an analyzer reply` });
  });

  it('is a 503 naming the service when nobody listens, and a 503 (or 504 if asked) when nobody answers in time', async () => {
    expect(await failure(client().request(`${prefix}.nobody`, {}))).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: `the analyzer is unavailable (no analyzer is listening on ${prefix}.nobody)`,
      details: { dependency: 'analyzer', subject: `${prefix}.nobody` },
    });
    await responder(`${prefix}.silent`, null);
    expect(await failure(client().request(`${prefix}.silent`, {}, 200))).toMatchObject({ statusCode: 503, message: `the analyzer is unavailable (no answer within 200 ms on ${prefix}.silent)` });
    await responder(`${prefix}.slow`, null);
    expect(await failure(client(504).request(`${prefix}.slow`, {}, 200))).toMatchObject({ statusCode: 504, message: `the analyzer did not answer within 200 ms (${prefix}.slow)` });
  });
});
