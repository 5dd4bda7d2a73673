import { Inject, Injectable, Logger } from '@nestjs/common';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { TokenUsage } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import type { GeneratorConfig } from '../generator.config';
import { LlmError } from './llm-errors';

export interface LlmMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type ResponseFormatMode = 'json_schema' | 'json_object' | 'none';

export interface LlmRequest {
  messages: LlmMessage[];
  /** JSON Schema the answer must match (used as structured output when the server supports it). */
  schema: Record<string, unknown>;
  schemaName: string;
  /** Epoch ms after which the call gives up, retries included. */
  deadline: number;
}

export interface LlmAnswer {
  /** The assistant's text ('' when it sent none). */
  content: string;
  model: string;
  usage: TokenUsage | null;
  finishReason: string | null;
  /** HTTP requests made, retries included. */
  attempts: number;
  /** Time spent in calls and backoff waits. */
  llmMs: number;
  responseFormat: ResponseFormatMode;
}

/** Server answers that mean "I do not support this response_format": try the next one down. */
const UNSUPPORTED_FORMAT = /response_format|json_schema|json_object|structured|not supported|unsupported|unknown field|extra inputs/i;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The LLM adapter: the only code that imports `openai`. One chat completion with a deadline,
 * bounded retries with exponential backoff (and Retry-After) on 429, 5xx and broken
 * connections, and the response_format degraded step by step (json_schema → json_object → none)
 * for servers that lack structured output; the mode that worked is remembered.
 */
@Injectable()
export class LlmClient {
  private readonly log = new Logger('LlmClient');
  private readonly client?: OpenAI;
  private formatMode: ResponseFormatMode;

  constructor(@Inject(APP_CONFIG) private readonly config: GeneratorConfig) {
    if (config.OPENAI_API_KEY) {
      this.client = new OpenAI({
        apiKey: config.OPENAI_API_KEY,
        ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
        // Retries and timeouts are ours (bounded by the generation's deadline), not the SDK's.
        maxRetries: 0,
        timeout: config.GENERATOR_LLM_TIMEOUT_MS,
      });
    }
    this.formatMode = config.GENERATOR_RESPONSE_FORMAT === 'auto' ? 'json_schema' : config.GENERATOR_RESPONSE_FORMAT;
  }

  /** False when no API key is set: the offline planner drafts instead. */
  get configured(): boolean {
    return this.client !== undefined;
  }

  get model(): string {
    return this.config.OPENAI_MODEL;
  }

  async complete(req: LlmRequest): Promise<LlmAnswer> {
    const client = this.client;
    if (!client) throw new LlmError('auth', 'no LLM is configured (OPENAI_API_KEY is unset)');
    const started = performance.now();
    const c = this.config;
    let attempts = 0;
    let retries = 0;
    for (;;) {
      const remaining = req.deadline - Date.now();
      if (remaining <= 0) throw new LlmError('timeout', `the model did not answer within the generation's deadline`, undefined, attempts);
      const timeout = Math.min(c.GENERATOR_LLM_TIMEOUT_MS, remaining);
      const mode = this.formatMode;
      attempts++;
      try {
        // Our own signal: the SDK reports its own timeout as a plain connection error.
        const signal = AbortSignal.timeout(timeout);
        const completion = await client.chat.completions
          .create(this.params(req, mode), { timeout: timeout + 1000, maxRetries: 0, signal })
          .catch((err: unknown) => {
            throw signal.aborted ? new LlmError('timeout', `the model did not answer within ${timeout} ms`, undefined, attempts) : err;
          });
        const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
        if (!choice || typeof choice.message !== 'object' || choice.message === null) {
          throw new LlmError('unavailable', 'the model answered without a choice (not a chat completion)', 200, attempts);
        }
        const u = completion.usage;
        return {
          content: typeof choice.message.content === 'string' ? choice.message.content : '',
          model: typeof completion.model === 'string' ? completion.model : this.model,
          usage: u ? { promptTokens: u.prompt_tokens ?? 0, completionTokens: u.completion_tokens ?? 0, totalTokens: u.total_tokens ?? 0 } : null,
          finishReason: choice.finish_reason ?? null,
          attempts,
          llmMs: performance.now() - started,
          responseFormat: mode,
        };
      } catch (err) {
        if (err instanceof LlmError) throw err;
        const status = err instanceof OpenAI.APIError ? err.status : undefined;
        if (status === 400 && mode !== 'none' && c.GENERATOR_RESPONSE_FORMAT === 'auto' && UNSUPPORTED_FORMAT.test(String((err as Error).message))) {
          this.formatMode = mode === 'json_schema' ? 'json_object' : 'none';
          this.log.warn(`the LLM server refused response_format ${mode}; using ${this.formatMode} from now on`);
          continue;
        }
        const failure = this.classify(err, timeout, attempts);
        const retryable = failure.kind === 'rate_limited' || failure.kind === 'unavailable';
        if (!retryable || retries >= c.GENERATOR_LLM_MAX_RETRIES) throw failure;
        const wait = this.backoff(retries, err);
        if (Date.now() + wait >= req.deadline) throw failure;
        retries++;
        this.log.warn(`LLM call failed (${failure.message}); retry ${retries} of ${c.GENERATOR_LLM_MAX_RETRIES} in ${wait} ms`);
        await sleep(wait);
      }
    }
  }

  private params(req: LlmRequest, mode: ResponseFormatMode): ChatCompletionCreateParamsNonStreaming {
    const messages: ChatCompletionMessageParam[] = req.messages.map((m) => ({ role: m.role, content: m.content }));
    const format: Pick<ChatCompletionCreateParamsNonStreaming, 'response_format'> =
      mode === 'json_schema'
        ? { response_format: { type: 'json_schema', json_schema: { name: req.schemaName, schema: req.schema, strict: false } } }
        : mode === 'json_object'
          ? { response_format: { type: 'json_object' } }
          : {};
    return {
      model: this.config.OPENAI_MODEL,
      messages,
      temperature: this.config.GENERATOR_TEMPERATURE,
      max_tokens: this.config.GENERATOR_MAX_TOKENS,
      ...format,
    };
  }

  private classify(err: unknown, timeoutMs: number, attempts: number): LlmError {
    if (err instanceof OpenAI.APIConnectionTimeoutError) return new LlmError('timeout', `the model did not answer within ${timeoutMs} ms`, undefined, attempts);
    if (err instanceof OpenAI.APIUserAbortError) return new LlmError('timeout', 'the model call was aborted', undefined, attempts);
    if (err instanceof OpenAI.APIConnectionError) {
      return new LlmError('unavailable', `cannot reach the LLM at ${this.config.OPENAI_BASE_URL ?? 'api.openai.com'}: ${err.message}`, undefined, attempts);
    }
    if (err instanceof OpenAI.APIError) {
      const status = err.status;
      const text = String(err.message).slice(0, 500);
      if (status === 429) return new LlmError('rate_limited', `the LLM server is rate limiting (429): ${text}`, 429, attempts);
      if (status === 401 || status === 403) return new LlmError('auth', `the LLM server refused OPENAI_API_KEY (${status}): ${text}`, status, attempts);
      if (status !== undefined && status >= 500) return new LlmError('unavailable', `the LLM server failed (${status}): ${text}`, status, attempts);
      if (status !== undefined && status >= 400) return new LlmError('rejected', `the LLM server refused the request (${status}): ${text}`, status, attempts);
      return new LlmError('unavailable', `the LLM server answered something that is not a chat completion: ${text}`, status, attempts);
    }
    // A 200 whose body is not JSON surfaces as a parse error from the SDK.
    return new LlmError('unavailable', `the LLM server answered something that is not a chat completion: ${String((err as Error)?.message ?? err).slice(0, 300)}`, undefined, attempts);
  }

  private backoff(retry: number, err: unknown): number {
    const c = this.config;
    const exp = Math.min(c.GENERATOR_LLM_BACKOFF_MAX_MS, c.GENERATOR_LLM_BACKOFF_MS * 2 ** retry);
    const jittered = exp / 2 + Math.random() * (exp / 2);
    const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
    const after = headers?.get('retry-after');
    const seconds = after !== null && after !== undefined ? Number(after) : NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(c.GENERATOR_LLM_BACKOFF_MAX_MS, Math.max(seconds * 1000, 0));
    return Math.round(jittered);
  }
}
