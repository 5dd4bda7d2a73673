import { z } from 'zod';
import { TENANT_ID_PATTERN } from './events';
import type { RequestReply, ServiceReply, SubjectsOf } from './service-reply';

/**
 * Names and messages between the gateway and the generator.
 *
 * WARNING: renaming a subject or collection strands what is already there (stored generations,
 * in-flight requests). Add a new name and migrate; never rename in place.
 */

/** Queue group of the generator's request/reply subjects: each request is answered by one generator. */
export const GENERATOR_QUEUE_GROUP = 'generator';

/** Collection the generator owns: every generation, its prompt, attempts, errors and token usage. */
export const GENERATIONS_COLLECTION = 'generations';

/** What each generator subject takes and answers (its reply is a `ServiceReply` of `reply`). */
export interface GeneratorRequests {
  generate: RequestReply<GenerateRequest, GenerationView>;
  get: RequestReply<GetGenerationRequest, StoredGenerationView>;
}

export const generatorSubjects = (prefix: string): SubjectsOf<GeneratorRequests> => ({
  generate: `${prefix}.generator.generate`,
  get: `${prefix}.generator.get`,
});

/**
 * Longest prompt, in characters. Generous for a description of a task (a few pages of text),
 * small enough that the prompt plus the tool registry and catalog stays inside a model's context
 * and the request inside NATS' 1 MB payload.
 */
export const MAX_PROMPT_CHARS = 20_000;

/** Prefix a draft gives the tool of a step whose tool does not exist, so it can never pass for a real one. */
export const MISSING_TOOL_PREFIX = 'missing:';

const tenantId = z.string().regex(TENANT_ID_PATTERN);
/** Text that can be stored as sent: the database refuses a NUL character (see storable.ts). */
// eslint-disable-next-line no-control-regex -- NUL is the character this pattern is about
const NO_NUL = /^[^\u0000]*$/;
const storableText = (max: number) => z.string().min(1).max(max).regex(NO_NUL, 'must not contain a NUL character (\\u0000)');
const toolName = storableText(200);

/**
 * Text with at least one character that is not white space, written out rather than as `\S`:
 * JavaScript's and other engines' `\s` differ (U+FEFF, U+001C-U+001F), and this pattern is
 * also the documented one that clients check against.
 */
// eslint-disable-next-line no-control-regex -- U+001C-U+001F are white space to some engines, so listed
export const NOT_BLANK = /[^\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** What a caller may ask of a generation besides the prompt. */
export const GenerationConstraintsSchema = z.strictObject({
  /** Only these tools may be used (others count as missing). */
  tools: z.array(toolName).max(200).optional(),
  maxSteps: z.number().int().min(1).max(100).optional(),
  category: storableText(100).optional(),
  tags: z.array(storableText(64)).max(20).optional(),
  /** Use the offline planner even when an LLM is configured. */
  offline: z.boolean().optional(),
});
export type GenerationConstraints = z.infer<typeof GenerationConstraintsSchema>;

export const GenerateBodySchema = z.strictObject({
  prompt: z
    .string()
    .max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`)
    .regex(NOT_BLANK, 'must not be blank')
    .describe('the task, in words'),
  constraints: GenerationConstraintsSchema.optional(),
});

/** Gateway → generator: draft a workflow. */
export const GenerateRequestSchema = GenerateBodySchema.extend({
  tenantId,
  /** How long the caller waits; the generator finishes (or gives up) inside it. */
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
});
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

/** Gateway → generator: one stored generation. */
export const GetGenerationRequestSchema = z.object({ tenantId, generationId: z.string().min(1).max(128) });
export type GetGenerationRequest = z.infer<typeof GetGenerationRequestSchema>;

/** A tool the draft would need and that no provider serves. */
export interface MissingTool {
  name: string;
  /** Why the draft needs it (the model's words, or the planner's). */
  reason: string;
  /** Steps of the draft that call it (their tool is `missing:<name>`). */
  stepIds: string[];
}

/** A catalog workflow the draft builds on. */
export interface ReusedWorkflow {
  id: string;
  name: string;
  source: string;
  /** Share of its finished runs that completed, when it has run. */
  successRate: number | null;
  runs: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** A generation as clients see it (docs/ARCHITECTURE.md#shapes-clients-rely-on, "a generation"); fields may be added, not renamed. */
export interface GenerationView {
  id: string;
  /** A workflow definition v1 (source "generated"), valid by `validateWorkflow`. */
  workflow: Record<string, unknown>;
  explanation: string;
  /** Existing tools the draft calls. */
  toolsUsed: string[];
  missingTools: MissingTool[];
  reusedWorkflows: ReusedWorkflow[];
  warnings: string[];
  /** True when the offline planner drafted it (no LLM). */
  offline: boolean;
  model: string | null;
  usage: TokenUsage | null;
  /** Model calls made: the first answer plus repair rounds. */
  rounds: number;
  durationMs: number;
  /** Part of durationMs spent waiting for the model (calls and backoff); the rest is the generator's own. */
  llmMs: number;
  createdAt: string;
}

/** A stored generation (`get`): the view, and whether the generation produced a draft or failed (with why). */
export type StoredGenerationView = GenerationView & { status: 'ok' | 'failed'; error?: { status: number; code: string; message: string } };

/** Generator replies: a value or an error the gateway maps to HTTP. */
export type GeneratorReply<T> = ServiceReply<T>;
