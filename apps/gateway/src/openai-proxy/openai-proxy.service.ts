import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { APP_CONFIG, MetricsService, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { AnalyzerClient } from '../learning/analyzer.client';
import { AnalyzerSuggestionSource } from './analyzer-suggestion.source';
import { answerFromCompletion, StreamedAnswer, type ChatAnswer } from './chat-answer';
import { intentOf, newToolAnswers, parseChatRequest, sessionIdOf, withSystemMessage, type ChatRequestBody } from './chat-request';
import { ChatSessionRecorder } from './chat-session.recorder';
import { openAiError } from './openai-error.filter';
import { pastExperienceMessage, SUGGESTION_SOURCE, type SuggestionSource } from './suggestion-source';
import { readBody, UpstreamChatClient, UpstreamTimeoutError, UpstreamUnavailableError } from './upstream-chat.client';

/** Request headers the proxy reads (lower case, as Node gives them). */
export const ProxyHeaders = {
  session: 'x-toolpath-session',
  suggestions: 'x-toolpath-suggestions',
  agent: 'x-toolpath-agent',
} as const;

/** Upstream response headers worth passing on: rate limits, retry hints, request ids. */
const FORWARDED_HEADER = /^(retry-after|retry-after-ms|x-request-id|openai-processing-ms|openai-version|x-ratelimit-.*)$/;

const SUGGESTION_CACHE_TTL_MS = 30_000;
const SUGGESTION_CACHE_SIZE = 1000;

interface PreparedRequest {
  tenantId: string;
  body: ChatRequestBody;
  /** The client's messages, before any "Past experience" was added (what gets recorded). */
  clientMessages: ChatRequestBody['messages'];
  payload: Buffer;
  sessionId: string;
  intent?: string;
  agentId?: string;
  startedAt: number;
}

type Outcome = 'ok' | 'upstream_status' | 'bad_gateway' | 'timeout' | 'client_gone';

/**
 * ProxyChatCompletions: forwards OpenAI chat-completions requests to the configured upstream,
 * streamed or not, and turns each exchange into tool-call events for the learning loop. The
 * answer never waits for the recording; suggestions are fetched within a short, fixed budget.
 */
@Injectable()
export class OpenAiProxyService implements OnApplicationShutdown {
  private readonly log = new Logger('OpenAiProxy');
  readonly upstream: UpstreamChatClient;
  readonly recorder: ChatSessionRecorder;
  private readonly suggestions: SuggestionSource;
  private readonly suggestionCache = new Map<string, { at: number; text: string | undefined }>();
  private readonly requests: Counter<'mode' | 'outcome'>;
  private readonly suggestionOutcomes: Counter<'outcome'>;
  private readonly recordErrors: Counter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    nats: NatsClient,
    metrics: MetricsService,
    analyzer: AnalyzerClient,
    @Optional() @Inject(SUGGESTION_SOURCE) suggestions?: SuggestionSource,
  ) {
    this.upstream = new UpstreamChatClient({
      baseUrl: config.OPENAI_BASE_URL,
      apiKey: config.OPENAI_API_KEY,
      headersTimeoutMs: config.OPENAI_PROXY_TIMEOUT_MS,
    });
    this.suggestions = suggestions ?? new AnalyzerSuggestionSource(analyzer);
    this.requests = metrics.counter('toolpath_openai_proxy_requests_total', 'Proxied chat completions by mode and outcome', ['mode', 'outcome']);
    this.suggestionOutcomes = metrics.counter('toolpath_openai_proxy_suggestions_total', 'Past-experience lookups by outcome', ['outcome']);
    this.recordErrors = metrics.counter('toolpath_openai_proxy_record_errors_total', 'Events of proxied sessions that could not be queued or were dropped');
    this.recorder = new ChatSessionRecorder(() => nats.nc, {
      subjectPrefix: config.TOOLPATH_SUBJECT_PREFIX,
      source: 'openai-proxy',
      maxResultChars: config.OPENAI_PROXY_RESULT_MAX_CHARS,
      onError: () => this.recordErrors.inc(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recorder.close();
    this.upstream.close();
  }

  /** `POST /v1/chat/completions`. */
  async chatCompletions(tenantId: string, rawBody: unknown, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const prepared = await this.prepare(tenantId, rawBody, req.headers);
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) abort.abort();
    };
    reply.raw.once('close', onClose);
    const mode = prepared.body.stream ? 'stream' : 'plain';
    let outcome: Outcome = 'ok';
    try {
      const upstream = await this.upstream.send('POST', 'chat/completions', prepared.payload, {}, abort.signal);
      if (prepared.body.stream && upstream.statusCode === 200 && isEventStream(upstream.headers)) {
        outcome = await this.pipeStream(prepared, upstream, reply);
      } else {
        outcome = await this.relayWhole(prepared, upstream, reply, abort.signal);
      }
    } catch (err) {
      outcome = abort.signal.aborted ? 'client_gone' : err instanceof UpstreamTimeoutError ? 'timeout' : 'bad_gateway';
      throw err;
    } finally {
      reply.raw.off('close', onClose);
      this.requests.inc({ mode, outcome });
    }
  }

  /** `GET /v1/models`: the upstream's list, so clients that look before they ask keep working. */
  async models(reply: FastifyReply): Promise<void> {
    const upstream = await this.upstream.send('GET', 'models', undefined, {});
    const body = await readBody(upstream, this.config.OPENAI_PROXY_TIMEOUT_MS);
    this.sendUpstreamBody(reply, upstream, body, '');
  }

  private async prepare(tenantId: string, rawBody: unknown, headers: IncomingHttpHeaders): Promise<PreparedRequest> {
    const startedAt = Date.now();
    const body = parseChatRequest(rawBody, this.config.OPENAI_MODEL);
    const sessionId = sessionIdOf(tenantId, body, headerValue(headers, ProxyHeaders.session));
    const intent = intentOf(body.messages);
    const agentId = headerValue(headers, ProxyHeaders.agent)?.slice(0, 256) || undefined;
    const clientMessages = body.messages;
    if (intent && this.suggestionsWanted(headers)) {
      const text = await this.experience(tenantId, intent, typeof body.user === 'string' ? body.user : undefined, agentId);
      if (text) body.messages = withSystemMessage(body.messages, text);
    }
    return { tenantId, body, clientMessages, payload: Buffer.from(JSON.stringify(body)), sessionId, intent, agentId, startedAt };
  }

  private suggestionsWanted(headers: IncomingHttpHeaders): boolean {
    const h = headerValue(headers, ProxyHeaders.suggestions)?.toLowerCase();
    if (h === undefined || h === '') return this.config.OPENAI_PROXY_SUGGESTIONS;
    return h === 'on' || h === 'true' || h === '1' || h === 'yes';
  }

  /** The "Past experience" text for an intent, from a short-lived cache or the suggestion source. */
  private async experience(tenantId: string, intent: string, userId: string | undefined, agentId: string | undefined): Promise<string | undefined> {
    const key = `${tenantId}\u0001${userId ?? ''}\u0001${agentId ?? ''}\u0001${intent}`;
    const cached = this.suggestionCache.get(key);
    if (cached && Date.now() - cached.at < SUGGESTION_CACHE_TTL_MS) return cached.text;
    const budget = this.config.OPENAI_PROXY_SUGGESTIONS_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      const found = await Promise.race([
        this.suggestions.suggest({ tenantId, intent, userId, agentId, limit: this.config.OPENAI_PROXY_SUGGESTIONS_LIMIT }, budget),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no suggestions within ${budget} ms`)), budget);
        }),
      ]);
      const text = pastExperienceMessage(found);
      this.suggestionOutcomes.inc({ outcome: text ? 'added' : 'none' });
      this.suggestionCache.set(key, { at: Date.now(), text });
      if (this.suggestionCache.size > SUGGESTION_CACHE_SIZE) this.suggestionCache.delete(this.suggestionCache.keys().next().value as string);
      return text;
    } catch (err) {
      // Suggestions are a bonus: without them the request goes on as the client sent it.
      this.suggestionOutcomes.inc({ outcome: 'failed' });
      this.log.debug(`suggestions skipped: ${(err as Error).message}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A non-streamed answer, or any upstream error status: read it whole, check it, pass it on. */
  private async relayWhole(p: PreparedRequest, upstream: IncomingMessage, reply: FastifyReply, signal: AbortSignal): Promise<Outcome> {
    const remaining = Math.max(1, this.config.OPENAI_PROXY_TIMEOUT_MS - (Date.now() - p.startedAt));
    signal.addEventListener('abort', () => upstream.destroy(), { once: true });
    const body = await readBody(upstream, remaining);
    const status = upstream.statusCode ?? 502;
    if (status >= 400) {
      this.sendUpstreamBody(reply, upstream, body, p.sessionId);
      return 'upstream_status';
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new UpstreamUnavailableError(`the upstream LLM answered ${status} with a body that is not JSON (${body.length} bytes)`);
    }
    const answer = answerFromCompletion(parsed);
    if (!answer) {
      throw new UpstreamUnavailableError(
        p.body.stream ? 'the upstream LLM did not stream its answer and its body is not a chat completion' : 'the upstream LLM answered without "choices": not a chat completion',
      );
    }
    if (p.body.stream) {
      // A server that ignores `stream: true`: the client asked for SSE, so it gets the answer as one.
      this.sendAsStream(reply, upstream, parsed as Record<string, unknown>, p.sessionId);
    } else {
      this.sendUpstreamBody(reply, upstream, body, p.sessionId);
    }
    this.recordLater(p, answer);
    return 'ok';
  }

  /** Passes an SSE stream through chunk by chunk, following it on the side to record the answer. */
  private pipeStream(p: PreparedRequest, upstream: IncomingMessage, reply: FastifyReply): Promise<Outcome> {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...forwardedHeaders(upstream.headers),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-toolpath-session': p.sessionId,
    });
    raw.flushHeaders();
    const follower = new StreamedAnswer();
    const idleMs = this.config.OPENAI_PROXY_STREAM_IDLE_MS;

    return new Promise<Outcome>((resolve) => {
      let finished = false;
      const idle = setTimeout(() => fail('timeout', `the upstream LLM sent nothing for ${idleMs} ms`), idleMs);
      const finish = (outcome: Outcome) => {
        if (finished) return;
        finished = true;
        clearTimeout(idle);
        upstream.off('data', onData);
        raw.off('close', onClientClose);
        resolve(outcome);
      };
      const fail = (outcome: Outcome, message: string) => {
        if (finished) return;
        if (!raw.writableEnded && !raw.destroyed) {
          // Headers are gone; an error frame is how OpenAI clients learn that the stream broke.
          raw.end(`data: ${JSON.stringify(openAiError(outcome === 'timeout' ? 504 : 502, message, outcome === 'timeout' ? 'upstream_timeout' : 'upstream_error', outcome === 'timeout' ? 'upstream_timeout' : 'bad_upstream'))}\n\n`);
        }
        finish(outcome);
        // After finish(): destroying emits 'aborted' synchronously, which must find the stream settled.
        upstream.destroy();
      };
      const onData = (chunk: Buffer) => {
        if (!raw.write(chunk)) {
          upstream.pause();
          raw.once('drain', () => upstream.resume());
        }
        idle.refresh();
        follower.push(chunk);
      };
      const onClientClose = () => {
        if (!raw.writableEnded) {
          finish('client_gone');
          upstream.destroy();
        }
      };
      upstream.on('data', onData);
      upstream.once('end', () => {
        if (finished) return;
        raw.end();
        finish('ok');
        this.recordLater(p, follower.answer());
      });
      upstream.once('aborted', () => fail('bad_gateway', 'the upstream LLM closed the stream before it finished'));
      upstream.once('error', () => fail('bad_gateway', 'the upstream LLM closed the stream before it finished'));
      upstream.once('close', () => {
        if (!upstream.complete) fail('bad_gateway', 'the upstream LLM closed the stream before it finished');
      });
      raw.once('close', onClientClose);
    });
  }

  private sendUpstreamBody(reply: FastifyReply, upstream: IncomingMessage, body: Buffer, sessionId: string): void {
    const status = upstream.statusCode ?? 502;
    const headers = forwardedHeaders(upstream.headers);
    if (sessionId) headers['x-toolpath-session'] = sessionId;
    const contentType = String(upstream.headers['content-type'] ?? '');
    if (status >= 400 && !looksLikeJson(contentType, body)) {
      // An HTML page from a load balancer, say: keep the status, say what came back in OpenAI's shape.
      const snippet = body.toString('utf8', 0, Math.min(body.length, 200)).replace(/\s+/g, ' ').trim();
      void reply
        .status(status)
        .headers(headers)
        .header('content-type', 'application/json; charset=utf-8')
        .send(openAiError(status, `the upstream LLM answered ${status}${snippet ? `: ${snippet}` : ''}`, 'upstream_error', 'upstream_status'));
      return;
    }
    void reply.status(status).headers(headers).header('content-type', contentType || 'application/json').send(body);
  }

  private sendAsStream(reply: FastifyReply, upstream: IncomingMessage, completion: Record<string, unknown>, sessionId: string): void {
    const choices = Array.isArray(completion.choices) ? (completion.choices as Array<Record<string, unknown>>) : [];
    const chunk = {
      id: completion.id,
      object: 'chat.completion.chunk',
      created: completion.created,
      model: completion.model,
      choices: choices.map((c, index) => {
        const message = (c.message ?? {}) as Record<string, unknown>;
        const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]).map((t, i) => ({ index: i, ...(t as object) })) : undefined;
        return { index, delta: { role: 'assistant', content: message.content ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, finish_reason: c.finish_reason ?? 'stop' };
      }),
      ...(completion.usage ? { usage: completion.usage } : {}),
    };
    void reply
      .status(200)
      .headers({ ...forwardedHeaders(upstream.headers), 'x-toolpath-session': sessionId })
      .header('content-type', 'text/event-stream; charset=utf-8')
      .send(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
  }

  /** After the answer has left: recording must not sit between the upstream and the client. */
  private recordLater(p: PreparedRequest, answer: ChatAnswer): void {
    if (!this.config.OPENAI_PROXY_RECORD) return;
    setImmediate(() =>
      this.recorder.record({
        tenantId: p.tenantId,
        sessionId: p.sessionId,
        intent: p.intent,
        userId: typeof p.body.user === 'string' && p.body.user ? p.body.user.slice(0, 256) : undefined,
        agentId: p.agentId,
        messageCount: p.clientMessages.length,
        answers: newToolAnswers(p.clientMessages),
        answer,
        startedAt: p.startedAt,
      }),
    );
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isEventStream(headers: IncomingHttpHeaders): boolean {
  return String(headers['content-type'] ?? '').toLowerCase().startsWith('text/event-stream');
}

function looksLikeJson(contentType: string, body: Buffer): boolean {
  if (!contentType.toLowerCase().includes('json')) return false;
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function forwardedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && FORWARDED_HEADER.test(name)) out[name] = value;
  }
  return out;
}
