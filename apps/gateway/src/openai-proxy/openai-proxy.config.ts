import { z } from 'zod';
import { env } from '@toolpath/platform';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

/**
 * Settings of the OpenAI-compatible proxy. The `OPENAI_*` names are the ones the openai SDK reads
 * itself, so one set of variables serves the generator, the proxy and any client on the machine.
 */
export const openAiProxyConfigShape = {
  /** The upstream OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio, ...). */
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'OPENAI_BASE_URL must be an http(s) URL' }).default('https://api.openai.com/v1'),
  /** Sent upstream as the Bearer key; unset for servers that need none. Clients never see it. */
  OPENAI_API_KEY: optionalText,
  /** Model used when a request names none. */
  OPENAI_MODEL: optionalText,
  /** Bound on reaching the upstream and receiving its response headers, and on a whole non-streamed answer (→ 504). */
  OPENAI_PROXY_TIMEOUT_MS: env.positiveInt.default(120_000),
  /** Longest silence inside a streamed answer before the proxy ends it with an error. */
  OPENAI_PROXY_STREAM_IDLE_MS: env.positiveInt.default(60_000),
  /** Record proxied requests as sessions of tool-call events. */
  OPENAI_PROXY_RECORD: env.bool.default(true),
  /** Add "Past experience" for the request's intent by default; `X-Toolpath-Suggestions` decides per request. */
  OPENAI_PROXY_SUGGESTIONS: env.bool.default(false),
  /** How long the proxy waits for suggestions before forwarding without them. */
  OPENAI_PROXY_SUGGESTIONS_TIMEOUT_MS: env.positiveInt.default(300),
  OPENAI_PROXY_SUGGESTIONS_LIMIT: z.coerce.number().int().min(1).max(10).default(3),
  /** Longest tool result kept in a recorded event, in characters. */
  OPENAI_PROXY_RESULT_MAX_CHARS: env.positiveInt.default(16_384),
};

export type OpenAiProxyConfig = z.infer<z.ZodObject<typeof openAiProxyConfigShape>>;
