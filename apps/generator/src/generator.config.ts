import { z } from 'zod';
import { baseConfigShape, env } from '@toolpath/platform';

const optionalText = z.string().min(1).optional();

export const generatorConfigSchema = z.object({
  ...baseConfigShape,
  /**
   * The LLM: any server speaking OpenAI chat completions (OpenAI, vLLM, Ollama, LM Studio). The
   * names are the ones the openai SDK itself reads. Without a key the offline planner drafts.
   */
  OPENAI_BASE_URL: z.url({ error: 'OPENAI_BASE_URL must be a URL such as http://127.0.0.1:11434/v1' }).optional(),
  OPENAI_API_KEY: optionalText,
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** One model call, from sending the request to the last byte of the answer. */
  GENERATOR_LLM_TIMEOUT_MS: env.positiveInt.default(60_000),
  /** Retries of one call after 429, 5xx or a broken connection (exponential backoff, Retry-After honoured). */
  GENERATOR_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  GENERATOR_LLM_BACKOFF_MS: env.positiveInt.default(500),
  GENERATOR_LLM_BACKOFF_MAX_MS: env.positiveInt.default(8_000),
  /** Rounds that feed validation errors back to the model after its first answer. */
  GENERATOR_REPAIR_ROUNDS: z.coerce.number().int().min(0).max(5).default(2),
  /**
   * How the answer's shape is requested: `json_schema` (structured output), `json_object` (JSON
   * mode), `none` (instructions only), or `auto`: json_schema, falling back when the server refuses it.
   */
  GENERATOR_RESPONSE_FORMAT: z.enum(['auto', 'json_schema', 'json_object', 'none']).default('auto'),
  GENERATOR_MAX_TOKENS: env.positiveInt.default(4096),
  GENERATOR_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.2),
  /** Bound on one whole generation (every call, retry and repair); a caller's shorter timeout wins. */
  GENERATOR_DEADLINE_MS: env.positiveInt.default(120_000),
  /** Generations one process works on at once; more are refused with 429. */
  GENERATOR_MAX_CONCURRENT: env.positiveInt.default(8),
  /** Catalog workflows put in the prompt (the most relevant to it, then the most successful). */
  GENERATOR_PROMPT_WORKFLOWS: z.coerce.number().int().min(0).max(200).default(20),
  /** Registry tools put in the prompt (the most relevant first when there are more). */
  GENERATOR_PROMPT_TOOLS: z.coerce.number().int().min(0).max(1000).default(150),
  /** How long a tenant's catalog snapshot (and the tool registry) is used before a background refresh. */
  GENERATOR_CATALOG_TTL_MS: env.positiveInt.default(30_000),
  /** How long a tenant's first request waits for its catalog snapshot before drafting without it. */
  GENERATOR_CATALOG_WAIT_MS: env.positiveInt.default(3_000),
  /** Most workflows of one tenant held in the search index. */
  GENERATOR_CATALOG_MAX_WORKFLOWS: env.positiveInt.default(50_000),
});
export type GeneratorConfig = z.infer<typeof generatorConfigSchema>;
