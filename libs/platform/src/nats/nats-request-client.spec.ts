import type { NatsConnection } from 'nats';
import { z } from 'zod';
import { errorReply, okReply, type RequestReply, type ServiceReply, type SubjectsOf } from '@toolpath/contracts';
import { connectTestNats, testNames } from '@toolpath/testing';
import { toErrorBody } from '../http/api-exception.filter';
import { HealthRegistry } from '../health/health-registry';
import { NatsRequestClient } from './nats-request-client';
import { NatsErrorReply, NatsInvalidReply, NatsNoResponders, NatsPayloadTooLarge, NatsRequestFailed, NatsRequestTimeout } from './nats-request-errors';
import { NatsRequestServer } from './nats-request-server';

const encoder = new TextEncoder();

/** A service's request map, as `@toolpath/contracts` declares one per service. */
interface TestRequests {
  echo: RequestReply<{ tenantId: string; text: string }, { said: string }>;
  refused: RequestReply<Record<string, never>, never>;
  junk: RequestReply<Record<string, never>, never>;
  notJson: RequestReply<Record<string, never>, never>;
  nobody: RequestReply<Record<string, never>, never>;
  silent: RequestReply<Record<string, never>, never>;
  big: RequestReply<{ tenantId: string; input: string }, never>;
}

describe('NatsRequestClient (real NATS)', () => {
  let nc: NatsConnection;
  let subjects: SubjectsOf<TestRequests>;

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  beforeEach(() => {
    const prefix = testNames('reqclient').subjectPrefix;
    subjects = { echo: `${prefix}.echo`, refused: `${prefix}.refused`, junk: `${prefix}.junk`, notJson: `${prefix}.notjson`, nobody: `${prefix}.nobody`, silent: `${prefix}.silent`, big: `${prefix}.big` };
  });
  afterAll(async () => {
    await nc.close();
  });

  const client = (opts: { slowService?: boolean; on?: NatsConnection } = {}) =>
    new NatsRequestClient<TestRequests>({ service: 'analyzer', subjects, nats: { nc: opts.on ?? nc }, timeoutMs: 500, slowService: opts.slowService });

  /** Answers the next request on `subject` with `raw` (or, with null, takes it and never answers). */
  async function responder(subject: string, raw: string | null): Promise<void> {
    nc.subscribe(subject, { callback: (_, msg) => raw !== null && msg.respond(encoder.encode(raw)), max: 1 });
    await nc.flush();
  }
  const reply = (r: ServiceReply<unknown>) => JSON.stringify(r);
  const failure = (p: Promise<unknown>) => p.then(() => new Error('resolved'), (e: unknown) => e);

  it('asks a NatsRequestServer by name and returns the value; its error reply is a NatsErrorReply', async () => {
    const server = new NatsRequestServer({ service: 'analyzer', queue: 'analyzer', nats: { nc }, health: new HealthRegistry(), confirmTimeoutMs: 2000 });
    server.serve(subjects.echo, z.object({ tenantId: z.string(), text: z.string().min(1) }), async (q) => okReply({ said: q.text }));
    await server.start();
    try {
      await expect(client().request('echo', { tenantId: 't', text: 'hi' })).resolves.toEqual({ said: 'hi' });
      const refused = await failure(client().request('echo', { tenantId: 't', text: '' }));
      expect(refused).toBeInstanceOf(NatsErrorReply);
      expect(refused).toMatchObject({ service: 'analyzer', subject: subjects.echo, status: 400, code: 'invalid_request', details: [{ field: 'text' }] });
      expect(toErrorBody(refused)).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^text: /), details: [{ field: 'text' }] });
    } finally {
      await server.stop();
    }
  });

  it('maps an error reply at the HTTP edge: field issues pass as they are, other details carry the code, a status that is no error is a 502', async () => {
    const cases: Array<[ServiceReply<never>, object]> = [
      [errorReply(404, 'not_found', 'no run "r"', [{ field: 'id', message: 'unknown run' }]), { statusCode: 404, error: 'Not Found', message: 'no run "r"', details: [{ field: 'id', message: 'unknown run' }] }],
      [errorReply(409, 'run_in_progress', 'busy', { runId: 'r1' }), { statusCode: 409, error: 'Conflict', message: 'busy', details: { code: 'run_in_progress', runId: 'r1' } }],
      [errorReply(429, 'busy', 'try later'), { statusCode: 429, error: 'Too Many Requests', message: 'try later', details: { code: 'busy' } }],
      [errorReply(200, 'weird', 'not an error status'), { statusCode: 502, error: 'Bad Gateway', message: 'not an error status', details: { code: 'weird' } }],
    ];
    for (const [answer, body] of cases) {
      await responder(subjects.refused, reply(answer));
      const err = await failure(client().request('refused', {}));
      expect(err).toBeInstanceOf(NatsErrorReply);
      expect(toErrorBody(err)).toEqual(body);
    }
  });

  it('is a NatsInvalidReply (502) when the answer is not a reply, JSON or not', async () => {
    await responder(subjects.junk, JSON.stringify({ hello: 'world' }));
    const junk = await failure(client().request('junk', {}));
    expect(junk).toBeInstanceOf(NatsInvalidReply);
    expect(toErrorBody(junk)).toEqual({ statusCode: 502, error: 'Bad Gateway', message: `the analyzer answered ${subjects.junk} with something that is not an analyzer reply` });
    await responder(subjects.notJson, '{nope');
    expect(await failure(client().request('notJson', {}))).toBeInstanceOf(NatsInvalidReply);
  });

  it('is a NatsNoResponders carrying its subject (503) when nobody listens', async () => {
    const err = await failure(client().request('nobody', {}));
    expect(err).toBeInstanceOf(NatsNoResponders);
    expect(err).toMatchObject({ service: 'analyzer', subject: subjects.nobody, message: `no analyzer is listening on ${subjects.nobody}` });
    expect(toErrorBody(err)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: `the analyzer is unavailable (no analyzer is listening on ${subjects.nobody})`,
      details: { dependency: 'analyzer', subject: subjects.nobody },
    });
  });

  it('is a NatsRequestTimeout when nobody answers in time: a 503, or a 504 for a service slow by design', async () => {
    await responder(subjects.silent, null);
    const err = await failure(client().request('silent', {}, 200));
    expect(err).toBeInstanceOf(NatsRequestTimeout);
    expect(err).toMatchObject({ subject: subjects.silent, timeoutMs: 200, slowService: false });
    expect(toErrorBody(err)).toMatchObject({ statusCode: 503, message: `the analyzer is unavailable (no answer within 200 ms on ${subjects.silent})`, details: { dependency: 'analyzer' } });
    await responder(subjects.silent, null);
    const late = await failure(client({ slowService: true }).request('silent', {}, 200));
    expect(late).toBeInstanceOf(NatsRequestTimeout);
    expect(toErrorBody(late)).toMatchObject({ statusCode: 504, error: 'Gateway Timeout', message: `the analyzer did not answer within 200 ms (${subjects.silent})` });
  });

  it('is a NatsPayloadTooLarge naming the largest field (413) before sending, and assertFits says so at once', async () => {
    const max = nc.info!.max_payload;
    let received = 0;
    nc.subscribe(subjects.big, { callback: () => received++ });
    await nc.flush();
    const err = await failure(client().request('big', { tenantId: 't', input: 'x'.repeat(max) }));
    expect(err).toBeInstanceOf(NatsPayloadTooLarge);
    expect(err).toMatchObject({ subject: subjects.big, limit: max, field: 'input', atLeast: false });
    const body = toErrorBody(err);
    expect(body).toMatchObject({ statusCode: 413, error: 'Payload Too Large', details: [{ field: 'input' }] });
    expect(body.message).toMatch(new RegExp(`^input: the request to the analyzer is \\d+ bytes once encoded, over the limit of ${max} bytes`));
    expect(() => client().assertFits('big', { input: 'x'.repeat(max) })).toThrow(NatsPayloadTooLarge);
    client().assertFits('big', { input: 'small' });
    let fits: unknown;
    try {
      client().assertFits('big', { input: 'x'.repeat(max) });
    } catch (e) {
      fits = e;
    }
    expect(toErrorBody(fits).message).toMatch(/^input: the request to the analyzer is at least \d+ bytes/);
    await nc.flush();
    expect(received).toBe(0);
  });

  it('is a NatsRequestFailed (503) when the connection is closed', async () => {
    const closed = await connectTestNats();
    await closed.close();
    const err = await failure(client({ on: closed }).request('nobody', {}));
    expect(err).toBeInstanceOf(NatsRequestFailed);
    expect(toErrorBody(err)).toMatchObject({ statusCode: 503, message: expect.stringMatching(/^the analyzer is unavailable \(request failed: .+ on /) });
  });
});
