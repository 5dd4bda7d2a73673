import { JSONCodec, type Subscription } from 'nats';
import OpenAI from 'openai';
import { analyzerSubjects, eventsSubject } from '@toolpath/contracts';
import { NatsClient } from '@toolpath/platform';
import { fakeReply, freePort, startFakeOpenAiServer, waitFor, type FakeOpenAiServer } from '@toolpath/testing';
import { OpenAiProxyService } from '../src/openai-proxy/openai-proxy.service';
import { gatewayHarness, KEY_A, KEY_B } from './gateway-harness';

const codec = JSONCodec<any>();

interface Extra {
  upstream: FakeOpenAiServer;
  events: any[];
  eventsSub: Subscription;
  analyzerSub: Subscription;
  suggestRequests: any[];
  analyzerSilent: boolean;
}
const ctx = gatewayHarness<Extra>('gwproxy');
const call = ctx.call;

const client = (over: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({ baseURL: `${ctx.base}/v1`, apiKey: KEY_A, maxRetries: 0, timeout: 10_000, ...over });

const eventsOf = (sessionId: string) => ctx.events.filter((e) => e.sessionId === sessionId);

beforeAll(async () => {
  await ctx.connect();
  ctx.upstream = await startFakeOpenAiServer({ apiKey: 'sk-upstream-secret', models: ['upstream-a', 'upstream-b'] });

  // Everything the proxy publishes, as it reaches the events subject.
  ctx.events = [];
  ctx.eventsSub = ctx.nc.subscribe(eventsSubject(ctx.names.subjectPrefix, 'acme'), {
    callback: (_err, msg) => ctx.events.push(codec.decode(msg.data)),
  });
  // A stand-in analyzer answering suggestion requests.
  ctx.suggestRequests = [];
  ctx.analyzerSilent = false;
  ctx.analyzerSub = ctx.nc.subscribe(analyzerSubjects(ctx.names.subjectPrefix).suggest, {
    queue: 'analyzer',
    callback: (_err, msg) => {
      const req = codec.decode(msg.data);
      ctx.suggestRequests.push(req);
      if (ctx.analyzerSilent) return;
      const items = /deploy/.test(req.intent ?? '')
        ? [
            {
              workflowId: 'wf_deploy',
              source: 'learned',
              name: 'Build, test and deploy',
              score: 0.9,
              confidence: 0.82,
              tools: ['ci.build', 'ci.test', 'k8s.deploy'],
              matchedSteps: 0,
              reasons: ['same intent 14 times'],
              workflow: {},
            },
          ]
        : [];
      msg.respond(codec.encode({ ok: true, value: { items, nextSteps: [] } }));
    },
  });
  await ctx.nc.flush();

  await ctx.startGateway({
    OPENAI_BASE_URL: ctx.upstream.baseURL,
    OPENAI_API_KEY: 'sk-upstream-secret',
    OPENAI_MODEL: 'default-model',
    OPENAI_PROXY_TIMEOUT_MS: '800',
    OPENAI_PROXY_STREAM_IDLE_MS: '500',
    OPENAI_PROXY_SUGGESTIONS_TIMEOUT_MS: '250',
  });
  await ctx.startService('recorder', { RECORDER_BATCH_WINDOW_MS: '20' });
}, 90_000);

afterAll(async () => {
  ctx.eventsSub?.unsubscribe();
  ctx.analyzerSub?.unsubscribe();
  await ctx.teardown();
  await ctx.upstream?.close();
});

beforeEach(() => {
  ctx.upstream.reset();
  ctx.upstream.setFallback(undefined);
});

describe('forwarding', () => {
  it('answers the official client unchanged, with the upstream key and the session header', async () => {
    ctx.upstream.enqueue(fakeReply.text('Paris.'));
    const { data, response } = await client()
      .chat.completions.create({ model: 'upstream-a', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0.2 })
      .withResponse();
    expect(data.choices[0].message.content).toBe('Paris.');
    expect(data.model).toBe('upstream-a');
    expect(response.headers.get('x-toolpath-session')).toMatch(/^chat_[A-Za-z0-9_-]+_1$/);
    const [seen] = ctx.upstream.chatRequests();
    // The Toolpath key stays at the gateway; the upstream gets its own.
    expect(seen.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(seen.body).toEqual({ model: 'upstream-a', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0.2 });
  });

  it('uses OPENAI_MODEL when the request names none, and passes the model list through', async () => {
    ctx.upstream.enqueue(fakeReply.text('ok'));
    const r = await call('POST', '/v1/chat/completions', { body: { messages: [{ role: 'user', content: 'hi' }] } });
    expect(r.status).toBe(200);
    expect(ctx.upstream.chatRequests()[0].body.model).toBe('default-model');
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toEqual(['upstream-a', 'upstream-b']);
  });

  it('streams chunk by chunk to the official client, usage and [DONE] included', async () => {
    ctx.upstream.enqueue(fakeReply.text('one two three four', { chunkDelayMs: 20 }));
    const stream = await client().chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'count to four' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const arrivals: number[] = [];
    const pieces: string[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0]?.delta.content;
      if (c) {
        pieces.push(c);
        arrivals.push(Date.now());
      }
    }
    expect(pieces.join('')).toBe('one two three four');
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number) });
    // Passed through as they came, not buffered to the end: the pieces arrive spread out.
    expect(arrivals.at(-1)! - arrivals[0]).toBeGreaterThanOrEqual(40);
  });

  it('passes a streamed tool call through intact', async () => {
    ctx.upstream.enqueue(fakeReply.toolCalls([{ id: 'call_s1', name: 'search.docs', arguments: { q: 'retry policy' } }]));
    const final = await client().chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'find the retry policy' }] }).finalChatCompletion();
    const call0 = final.choices[0].message.tool_calls![0];
    expect(call0).toMatchObject({ id: 'call_s1', function: { name: 'search.docs' } });
    expect(JSON.parse((call0 as any).function.arguments)).toEqual({ q: 'retry policy' });
  });
});

describe('recording', () => {
  it('records tool calls with the tool messages that answer them, then the final answer, under one session', async () => {
    const messages: any[] = [
      { role: 'system', content: 'You are a release bot.' },
      { role: 'user', content: 'deploy the app to staging' },
    ];
    ctx.upstream.enqueue(
      fakeReply.toolCalls([
        { id: 'call_build', name: 'ci.build', arguments: { target: 'app' } },
        { id: 'call_test', name: 'ci.test', arguments: '{"suite":"smoke"}' },
      ]),
    );
    const first = await client().chat.completions.create({ model: 'm', messages }).withResponse();
    const sessionId = first.response.headers.get('x-toolpath-session')!;
    const assistant = first.data.choices[0].message;
    expect(assistant.tool_calls).toHaveLength(2);

    // The client runs the tools and comes back with their results (streaming this time).
    messages.push(assistant, { role: 'tool', tool_call_id: 'call_build', content: '{"artifact":"app-1.2.3.tgz"}' }, { role: 'tool', tool_call_id: 'call_test', content: 'Error: 2 smoke tests failed' });
    ctx.upstream.enqueue(fakeReply.text('The build passed but smoke tests failed.'));
    const stream = await client().chat.completions.create({ model: 'm', messages, stream: true }).withResponse();
    expect(stream.response.headers.get('x-toolpath-session')).toBe(sessionId);
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('The build passed but smoke tests failed.');

    const got = await waitFor(() => (eventsOf(sessionId).length >= 3 ? eventsOf(sessionId) : undefined), { timeoutMs: 5000 });
    const calls = got.filter((e) => e.kind === 'tool_call').sort((a, b) => a.seq - b.seq);
    expect(calls).toEqual([
      expect.objectContaining({
        tenantId: 'acme',
        tool: 'ci.build',
        parameters: { target: 'app' },
        result: { artifact: 'app-1.2.3.tgz' },
        success: true,
        intent: 'deploy the app to staging',
        source: 'openai-proxy',
        seq: 3,
      }),
      expect.objectContaining({ tool: 'ci.test', parameters: { suite: 'smoke' }, success: false, error: 'Error: 2 smoke tests failed', seq: 4 }),
    ]);
    expect(calls[0].durationMs).toBeGreaterThanOrEqual(0);
    const end = got.find((e) => e.kind === 'session_end');
    expect(end).toMatchObject({ success: true, intent: 'deploy the app to staging', result: 'The build passed but smoke tests failed.', seq: 5 });

    // The recorder stores them: the session reads back through the REST API.
    const session = await waitFor(
      async () => {
        const r = await call('GET', `/api/v1/sessions/${sessionId}`);
        return r.status === 200 && r.body.events.length === 3 ? r.body : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(session).toMatchObject({ sessionId, intent: 'deploy the app to staging', success: true });
    expect(session.events.map((e: any) => e.tool ?? e.kind)).toEqual(['ci.build', 'ci.test', 'session_end']);
  });

  it('uses X-Toolpath-Session and X-Toolpath-Agent when sent, and a new session for a follow-up question', async () => {
    ctx.upstream.setFallback(fakeReply.text('done'));
    const named = await client()
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'summarise' }] }, { headers: { 'X-Toolpath-Session': 'my-session-42', 'X-Toolpath-Agent': 'agent-7' } })
      .withResponse();
    expect(named.response.headers.get('x-toolpath-session')).toBe('my-session-42');
    const end = await waitFor(() => eventsOf('my-session-42')[0]);
    expect(end).toMatchObject({ kind: 'session_end', agentId: 'agent-7', intent: 'summarise' });

    const conv: any[] = [{ role: 'user', content: 'what is a DAG?' }];
    const a = await client().chat.completions.create({ model: 'm', messages: conv }).withResponse();
    conv.push({ role: 'assistant', content: 'done' }, { role: 'user', content: 'and a topological order?' });
    const b = await client().chat.completions.create({ model: 'm', messages: conv }).withResponse();
    const idA = a.response.headers.get('x-toolpath-session')!;
    const idB = b.response.headers.get('x-toolpath-session')!;
    expect(idA.replace(/_\d+$/, '')).toBe(idB.replace(/_\d+$/, ''));
    expect(idA).toMatch(/_1$/);
    expect(idB).toMatch(/_2$/);
    // Another tenant with the same words gets another session.
    const other = await client({ apiKey: KEY_B }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'what is a DAG?' }] }).withResponse();
    expect(other.response.headers.get('x-toolpath-session')).not.toBe(idA);
  });

  it('a 1 MB prompt goes through and its intent is recorded cut to size', async () => {
    ctx.upstream.enqueue(fakeReply.text('long read'));
    const huge = 'x'.repeat(1024 * 1024);
    const r = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: huge }] }, { headers: { 'X-Toolpath-Session': 'huge-1' } });
    expect(r.choices[0].message.content).toBe('long read');
    expect(ctx.upstream.chatRequests()[0].body.messages[0].content).toHaveLength(huge.length);
    const end = await waitFor(() => eventsOf('huge-1')[0]);
    expect(end.intent.length).toBe(10_000);
  });
});

describe('upstream failures', () => {
  it('passes 429 through with Retry-After, and the client retries into the next answer', async () => {
    ctx.upstream.enqueue(fakeReply.rateLimited(3));
    const err = await client()
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.headers.get('retry-after')).toBe('3');
    expect(err.message).toContain('scripted 429');

    ctx.upstream.enqueue(fakeReply.rateLimited(0), fakeReply.text('second time lucky'));
    const ok = await client({ maxRetries: 1 }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(ok.choices[0].message.content).toBe('second time lucky');
  });

  it('passes a 500 through, also for a streaming request', async () => {
    ctx.upstream.enqueue(fakeReply.error(500), fakeReply.error(503));
    await expect(client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 500 });
    await expect(client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true })).rejects.toMatchObject({ status: 503 });
  });

  it('answers 502 with a clear message for garbage, a dropped connection or a body without choices', async () => {
    ctx.upstream.enqueue(fakeReply.garbage(), fakeReply.drop(), fakeReply.garbage('{"hello":"world"}'));
    for (const expected of [/not JSON/, /unreachable|closed/, /not a chat completion/]) {
      const r = await call('POST', '/v1/chat/completions', { body: { model: 'm', messages: [{ role: 'user', content: 'x' }] } });
      expect(r.status).toBe(502);
      expect(r.body.error).toMatchObject({ type: 'upstream_error', message: expect.stringMatching(expected) });
    }
  });

  it('answers 504 when the upstream is slow, and 502 when it is down', async () => {
    ctx.upstream.enqueue(fakeReply.delayed(2000));
    const started = Date.now();
    const slow = await client()
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(slow.status).toBe(504);
    expect(slow.message).toMatch(/within 800 ms/);
    expect(Date.now() - started).toBeLessThan(1800);

    const downPort = await freePort();
    const proxy = ctx.app.get(OpenAiProxyService);
    const real = proxy.upstream;
    const { UpstreamChatClient } = await import('../src/openai-proxy/upstream-chat.client');
    (proxy as any).upstream = new UpstreamChatClient({ baseUrl: `http://127.0.0.1:${downPort}/v1`, headersTimeoutMs: 800 });
    try {
      const down = await call('POST', '/v1/chat/completions', { body: { model: 'm', messages: [{ role: 'user', content: 'x' }] } });
      expect(down.status).toBe(502);
      expect(down.body.error.message).toMatch(/unreachable: ECONNREFUSED/);
    } finally {
      (proxy as any).upstream = real;
    }
  });

  it('ends a stream that breaks or stalls with an error the client raises', async () => {
    ctx.upstream.enqueue({ ...fakeReply.text('a b c'), drop: 'mid-stream' });
    const broken = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const drain = async (s: AsyncIterable<unknown>) => {
      for await (const _ of s) {
        // consume
      }
    };
    await expect(drain(broken)).rejects.toThrow(/closed the stream before it finished/);

    ctx.upstream.enqueue(fakeReply.text('a b c', { chunkDelayMs: 2000 }));
    const stalled = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    await expect(drain(stalled)).rejects.toThrow(/sent nothing for 500 ms/);
  });
});

describe('auth and bad input', () => {
  it('refuses a missing or unknown key with 401 in the shape OpenAI clients read', async () => {
    const err = await client({ apiKey: 'not-a-real-key-0123456789' })
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.message).toContain('unknown API key');
    const none = await call('POST', '/v1/chat/completions', { key: null, body: { messages: [{ role: 'user', content: 'x' }] } });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    expect(ctx.upstream.chatRequests()).toHaveLength(0);
  });

  it('names the field of a bad request and never reaches the upstream', async () => {
    const noMessages = await call('POST', '/v1/chat/completions', { body: { model: 'm' } });
    expect(noMessages.status).toBe(400);
    expect(noMessages.body.error).toMatchObject({ param: 'messages', type: 'invalid_request_error' });
    const badRole = await call('POST', '/v1/chat/completions', { body: { model: 'm', messages: [{ content: 'x' }] } });
    expect(badRole.body.error.param).toBe('messages[0].role');
    const badStream = await call('POST', '/v1/chat/completions', { body: { model: 'm', stream: 'yes', messages: [{ role: 'user', content: 'x' }] } });
    expect(badStream.body.error.param).toBe('stream');
    const badSession = await call('POST', '/v1/chat/completions', { body: { messages: [{ role: 'user', content: 'x' }] }, headers: { 'x-toolpath-session': 'a b' } });
    expect(badSession.body.error.param).toBe('x-toolpath-session');
    const notJson = await call('POST', '/v1/chat/completions', { raw: '{"messages": [' });
    expect(notJson.status).toBe(400);
    expect(ctx.upstream.chatRequests()).toHaveLength(0);
  });

  it('is listed in the OpenAPI document outside /api/v1', async () => {
    const docs = await call('GET', '/docs-json', { key: null });
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/chat/completions', '/v1/models']));
  });
});

describe('past experience', () => {
  it('adds the best suggestions as a system message after the client\'s own, when asked', async () => {
    ctx.upstream.setFallback(fakeReply.text('ok'));
    const messages: any[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'deploy the billing service' },
    ];
    await client().chat.completions.create({ model: 'm', messages }, { headers: { 'X-Toolpath-Suggestions': 'on', 'X-Toolpath-Agent': 'a1' } });
    const sent = ctx.upstream.chatRequests()[0].body.messages;
    expect(sent).toHaveLength(3);
    expect(sent[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(sent[1].role).toBe('system');
    expect(sent[1].content).toMatch(/^Past experience:/);
    expect(sent[1].content).toContain('Build, test and deploy: ci.build -> ci.test -> k8s.deploy');
    expect(ctx.suggestRequests.at(-1)).toMatchObject({ tenantId: 'acme', intent: 'deploy the billing service', agentId: 'a1' });

    // Off by default (OPENAI_PROXY_SUGGESTIONS=false), and nothing to add for an unknown intent.
    await client().chat.completions.create({ model: 'm', messages });
    await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'tell a joke' }] }, { headers: { 'X-Toolpath-Suggestions': 'on' } });
    expect(ctx.upstream.chatRequests()[1].body.messages).toEqual(messages);
    expect(ctx.upstream.chatRequests()[2].body.messages).toEqual([{ role: 'user', content: 'tell a joke' }]);
  });

  it('forwards without suggestions when the analyzer does not answer in time', async () => {
    ctx.upstream.setFallback(fakeReply.text('ok'));
    ctx.analyzerSilent = true;
    try {
      const started = Date.now();
      const r = await client().chat.completions.create(
        { model: 'm', messages: [{ role: 'user', content: 'deploy something new' }] },
        { headers: { 'X-Toolpath-Suggestions': 'on' } },
      );
      expect(r.choices[0].message.content).toBe('ok');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ctx.upstream.chatRequests()[0].body.messages).toHaveLength(1);
    } finally {
      ctx.analyzerSilent = false;
    }
  });
});

describe('without NATS', () => {
  it('still answers when the event connection is gone (events are dropped and counted)', async () => {
    ctx.upstream.setFallback(fakeReply.text('still here'));
    await ctx.app.get(NatsClient).nc.close();
    const r = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'are you there?' }] });
    expect(r.choices[0].message.content).toBe('still here');
    const metrics = await (await fetch(`${ctx.base}/metrics`)).text();
    expect(metrics).toMatch(/toolpath_openai_proxy_requests_total\{mode="plain",outcome="ok"\} \d+/);
  });
});
