import OpenAI from 'openai';
import { fakeReply, startFakeOpenAiServer, type FakeOpenAiServer } from './fake-openai-server';

describe('fake OpenAI server, driven by the official openai client', () => {
  let server: FakeOpenAiServer;
  let client: OpenAI;

  beforeEach(async () => {
    server = await startFakeOpenAiServer({ apiKey: 'sk-test', models: ['fake-model', 'other'] });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test', maxRetries: 0, timeout: 2000 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers a scripted text completion and records the request', async () => {
    server.enqueue(fakeReply.text('hello there'));
    const res = await client.chat.completions.create({
      model: 'gpt-x',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_object' },
    });
    expect(res.choices[0].message.content).toBe('hello there');
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.model).toBe('gpt-x');
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    const [req] = server.chatRequests();
    expect(req.body.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(req.body.response_format).toEqual({ type: 'json_object' });
    expect(req.headers.authorization).toBe('Bearer sk-test');
  });

  it('answers in queue order, then a clear 500 once the script runs out', async () => {
    server.enqueue(fakeReply.text('one'), fakeReply.json({ a: 1 }));
    const ask = () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect((await ask()).choices[0].message.content).toBe('one');
    expect(JSON.parse((await ask()).choices[0].message.content!)).toEqual({ a: 1 });
    await expect(ask()).rejects.toMatchObject({ status: 500, message: expect.stringContaining('no scripted reply left') });
  });

  it('uses the fallback when the queue is empty', async () => {
    server.setFallback((req) => fakeReply.text(`echo ${req.body.messages.at(-1).content}`));
    const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'ping' }] });
    expect(res.choices[0].message.content).toBe('echo ping');
  });

  it('returns tool_calls in a plain completion', async () => {
    server.enqueue(fakeReply.toolCalls([{ id: 'call_1', name: 'fs.read', arguments: { path: '/tmp/a' } }]));
    const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'read' }] });
    const msg = res.choices[0].message;
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    expect(msg.content).toBeNull();
    expect(msg.tool_calls).toHaveLength(1);
    const call = msg.tool_calls![0];
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.id).toBe('call_1');
    expect(call.function.name).toBe('fs.read');
    expect(JSON.parse(call.function.arguments)).toEqual({ path: '/tmp/a' });
  });

  it('streams text chunk by chunk with usage and [DONE]', async () => {
    server.enqueue(fakeReply.text('one two three'));
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(pieces).toEqual(['one ', 'two ', 'three']);
    expect(finish).toBe('stop');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('streams tool_calls that the client helper reassembles', async () => {
    server.enqueue(
      fakeReply.toolCalls([
        { name: 'search', arguments: { q: 'cats' } },
        { name: 'notify', arguments: '{"to":"ops"}' },
      ]),
    );
    const runner = client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    const final = await runner.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls!;
    expect(calls.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : null))).toEqual([
      ['search', { q: 'cats' }],
      ['notify', { to: 'ops' }],
    ]);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
  });

  it('passes 429 with Retry-After, and the client retries into the next scripted answer', async () => {
    server.enqueue(fakeReply.rateLimited(0), fakeReply.text('after retry'));
    const retrying = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test', maxRetries: 1, timeout: 2000 });
    const res = await retrying.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(res.choices[0].message.content).toBe('after retry');
    expect(server.chatRequests()).toHaveLength(2);

    server.enqueue(fakeReply.rateLimited(7));
    const err = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.headers.get('retry-after')).toBe('7');
  });

  it('answers 500 as an InternalServerError', async () => {
    server.enqueue(fakeReply.error(500));
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
  });

  it('scripts invalid JSON content', async () => {
    server.enqueue(fakeReply.invalidJson());
    const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(() => JSON.parse(res.choices[0].message.content!)).toThrow();
  });

  it('delays an answer past the client timeout', async () => {
    server.enqueue(fakeReply.delayed(1500, fakeReply.text('late')));
    const impatient = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test', maxRetries: 0, timeout: 200 });
    const started = Date.now();
    // APIConnectionTimeoutError outside jest; jest's sandbox hides the AbortError's class, so the
    // client reports its parent class.
    await expect(impatient.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    expect(Date.now() - started).toBeLessThan(1400);
  });

  it('drops the connection before headers and mid-stream', async () => {
    server.enqueue(fakeReply.drop());
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );

    server.enqueue({ ...fakeReply.text('a b c d'), drop: 'mid-stream' });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const consume = async () => {
      for await (const _chunk of stream) {
        // reading until the socket closes
      }
    };
    await expect(consume()).rejects.toThrow();
  });

  it('answers garbage bytes that the client cannot parse', async () => {
    server.enqueue(fakeReply.garbage());
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow();
  });

  it('refuses a wrong key, lists models and rejects a body without messages', async () => {
    const wrong = new OpenAI({ baseURL: server.baseURL, apiKey: 'nope', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-model', 'other']);
    const res = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
      body: '{"model":"m"}',
    });
    expect(res.status).toBe(400);
  });

  it('closes promptly while a delayed answer is pending', async () => {
    server.enqueue(fakeReply.delayed(30_000));
    const pending = client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    await server.waitForRequests(1);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    server = await startFakeOpenAiServer(); // afterEach closes this one
  });
});
