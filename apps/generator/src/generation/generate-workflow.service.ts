import { Inject, Injectable, Logger } from '@nestjs/common';
import type { GenerateRequest, GenerationView, GeneratorReply, TokenUsage } from '@toolpath/contracts';
import { APP_CONFIG, MetricsService } from '@toolpath/platform';
import { TemplateLibrary } from '@toolpath/templates';
import { CatalogSnapshots } from '../catalog/catalog-snapshots';
import type { GeneratorConfig } from '../generator.config';
import { LlmError, type LlmErrorKind } from '../llm/llm-errors';
import { LlmClient, type LlmMessage } from '../llm/llm.client';
import { TemplateIndex, planOffline } from '../offline/offline-planner';
import { ToolCatalog } from '../tools/tool-catalog';
import { DRAFT_SCHEMA_NAME, draftAnswerJsonSchema, parseAnswerJson, readEnvelope } from './draft-answer';
import { buildDraftPrompt, repairMessages } from './draft-prompt';
import { finalizeDraft, type DraftContext, type FinalDraft } from './finalize-draft';
import { ANSWER_CAP, GenerationRepository, generationView, newGenerationId, type GenerationRound, type GenerationRow } from './generation.repository';

type Failure = { status: number; code: string; message: string; details?: Record<string, unknown> };

/** Time kept back from the caller's timeout, so the reply reaches it before it gives up. */
const REPLY_MARGIN_MS = 1000;

const LLM_FAILURES: Record<LlmErrorKind, { status: number; code: string }> = {
  timeout: { status: 504, code: 'llm_timeout' },
  rate_limited: { status: 503, code: 'llm_rate_limited' },
  unavailable: { status: 502, code: 'llm_unavailable' },
  auth: { status: 502, code: 'llm_auth' },
  rejected: { status: 502, code: 'llm_rejected' },
};

function addUsage(total: TokenUsage | null, u: TokenUsage | null): TokenUsage | null {
  if (!u) return total;
  if (!total) return { ...u };
  return { promptTokens: total.promptTokens + u.promptTokens, completionTokens: total.completionTokens + u.completionTokens, totalTokens: total.totalTokens + u.totalTokens };
}

/**
 * One generation: the model's draft (or the offline planner's), checked by the workflow
 * validator and repaired in bounded rounds that show the model the validator's errors, with tools
 * that do not exist marked as missing. Every generation, failed ones included, is stored once.
 */
@Injectable()
export class GenerateWorkflowService {
  private readonly log = new Logger('GenerateWorkflow');
  private readonly templates: TemplateIndex;
  private readonly metrics: {
    generations: ReturnType<MetricsService['counter']>;
    tokens: ReturnType<MetricsService['counter']>;
    duration: ReturnType<MetricsService['histogram']>;
  };

  constructor(
    @Inject(APP_CONFIG) private readonly config: GeneratorConfig,
    private readonly llm: LlmClient,
    private readonly tools: ToolCatalog,
    private readonly snapshots: CatalogSnapshots,
    private readonly repo: GenerationRepository,
    metrics: MetricsService,
  ) {
    this.templates = new TemplateIndex(TemplateLibrary.load().list());
    this.metrics = {
      generations: metrics.counter('toolpath_generator_generations_total', 'Generations by mode and outcome', ['mode', 'outcome']),
      tokens: metrics.counter('toolpath_generator_tokens_total', 'LLM tokens used', ['kind']),
      duration: metrics.histogram('toolpath_generator_generation_seconds', 'Whole generation time by mode', ['mode'], [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120]),
    };
  }

  async generate(req: GenerateRequest): Promise<GeneratorReply<GenerationView>> {
    const started = performance.now();
    const prompt = req.prompt.trim();
    if (prompt.length === 0) return fail({ status: 400, code: 'invalid_request', message: 'prompt: must not be empty', details: { field: 'prompt' } });
    const budget = Math.min(this.config.GENERATOR_DEADLINE_MS, req.timeoutMs !== undefined ? req.timeoutMs - REPLY_MARGIN_MS : Infinity);
    const deadline = Date.now() + Math.max(budget, 1);
    const offline = !this.llm.configured || req.constraints?.offline === true;
    const mode = offline ? 'offline' : 'llm';
    const id = newGenerationId();
    const base = {
      _id: `${req.tenantId}:${id}`,
      id,
      tenantId: req.tenantId,
      prompt: prompt.slice(0, 20_000),
      ...(req.constraints ? { constraints: req.constraints } : {}),
      offline,
      model: offline ? null : this.llm.model,
    };
    const [tools, snapshot] = await Promise.all([this.tools.get(), this.snapshots.get(req.tenantId)]);
    const ctx: DraftContext = { tools, catalog: snapshot, ...(req.constraints ? { constraints: req.constraints } : {}) };

    let outcome: { draft: FinalDraft; rounds: GenerationRound[]; usage: TokenUsage | null; llmMs: number; systemPromptChars: number } | { failure: Failure; rounds: GenerationRound[]; usage: TokenUsage | null; llmMs: number; systemPromptChars: number };
    if (offline) {
      const plan = planOffline({ prompt, ...(req.constraints ? { constraints: req.constraints } : {}), tools, catalog: snapshot, templates: this.templates });
      const checked = plan.ok ? finalizeDraft(plan.draft, ctx) : undefined;
      outcome = !plan.ok
        ? { failure: { status: 422, code: 'no_match', message: `offline planner: ${plan.reason}`, details: { field: 'prompt' } }, rounds: [], usage: null, llmMs: 0, systemPromptChars: 0 }
        : checked!.ok
          ? { draft: checked!.draft, rounds: [], usage: null, llmMs: 0, systemPromptChars: 0 }
          : { failure: { status: 500, code: 'offline_invalid', message: `offline planner made an invalid draft: ${checked!.problems.join('; ')}` }, rounds: [], usage: null, llmMs: 0, systemPromptChars: 0 };
      if (outcome && 'draft' in outcome) outcome.draft.warnings.unshift(this.llm.configured ? 'drafted offline as asked (constraints.offline)' : 'drafted offline: no LLM is configured (OPENAI_API_KEY is unset)');
    } else {
      outcome = await this.withModel(prompt, req, ctx, deadline);
    }

    const durationMs = performance.now() - started;
    const common = { ...base, usage: outcome.usage, rounds: outcome.rounds.length, durationMs, llmMs: outcome.llmMs, roundsDetail: outcome.rounds, systemPromptChars: outcome.systemPromptChars, createdAt: new Date() };
    this.metrics.duration.observe({ mode }, durationMs / 1000);
    if (outcome.usage) {
      this.metrics.tokens.inc({ kind: 'prompt' }, outcome.usage.promptTokens);
      this.metrics.tokens.inc({ kind: 'completion' }, outcome.usage.completionTokens);
    }
    if ('failure' in outcome) {
      this.metrics.generations.inc({ mode, outcome: outcome.failure.code });
      const row: GenerationRow = { ...common, status: 'failed', workflow: {}, explanation: '', toolsUsed: [], missingTools: [], reusedWorkflows: [], warnings: [], error: { status: outcome.failure.status, code: outcome.failure.code, message: outcome.failure.message } };
      await this.repo.insert(row).catch((err: unknown) => this.log.warn(`could not store failed generation ${id}: ${(err as Error).message}`));
      return fail({ ...outcome.failure, details: { ...outcome.failure.details, generationId: id } });
    }
    this.metrics.generations.inc({ mode, outcome: 'ok' });
    const d = outcome.draft;
    const row: GenerationRow = {
      ...common,
      status: 'ok',
      workflow: d.workflow as unknown as Record<string, unknown>,
      explanation: d.explanation,
      toolsUsed: d.toolsUsed,
      missingTools: d.missingTools,
      reusedWorkflows: d.reusedWorkflows,
      warnings: d.warnings,
    };
    try {
      await this.repo.insert(row);
    } catch (err) {
      // The draft is still worth returning; apply with the workflow itself works without the row.
      this.log.warn(`could not store generation ${id}: ${(err as Error).message}`);
      row.warnings.push('the generation could not be stored; apply it by sending the workflow itself');
    }
    return { ok: true, value: generationView(row) };
  }

  async get(tenantId: string, id: string): Promise<GeneratorReply<GenerationView & { status: string; error?: unknown }>> {
    const row = await this.repo.get(tenantId, id);
    if (!row) return fail({ status: 404, code: 'not_found', message: `no generation "${id}"`, details: { field: 'generationId' } });
    return { ok: true, value: { ...generationView(row), status: row.status, ...(row.error ? { error: row.error } : {}) } };
  }

  private async withModel(prompt: string, req: GenerateRequest, ctx: DraftContext, deadline: number) {
    const built = buildDraftPrompt({
      prompt,
      ...(req.constraints ? { constraints: req.constraints } : {}),
      tools: ctx.tools,
      catalog: ctx.catalog,
      templates: this.templates.templates,
      maxTools: this.config.GENERATOR_PROMPT_TOOLS,
      maxWorkflows: this.config.GENERATOR_PROMPT_WORKFLOWS,
    });
    const systemPromptChars = built.messages[0].content.length;
    const messages: LlmMessage[] = [...built.messages];
    const rounds: GenerationRound[] = [];
    let usage: TokenUsage | null = null;
    let llmMs = 0;
    let problems: string[] = [];
    for (let round = 0; round <= this.config.GENERATOR_REPAIR_ROUNDS; round++) {
      let answer;
      try {
        answer = await this.llm.complete({ messages, schema: draftAnswerJsonSchema(), schemaName: DRAFT_SCHEMA_NAME, deadline });
      } catch (err) {
        if (!(err instanceof LlmError)) throw err;
        const mapped = LLM_FAILURES[err.kind];
        const after = rounds.length > 0 ? ` (after ${rounds.length} answer${rounds.length > 1 ? 's' : ''} that did not validate)` : '';
        return { failure: { ...mapped, message: `${err.message}${after}`, details: { attempts: err.attempts, ...(problems.length ? { problems } : {}) } }, rounds, usage, llmMs, systemPromptChars };
      }
      usage = addUsage(usage, answer.usage);
      llmMs += answer.llmMs;
      const checked = this.checkAnswer(answer.content, answer.finishReason, ctx);
      problems = 'problems' in checked ? checked.problems : [];
      rounds.push({
        round,
        durationMs: answer.llmMs,
        attempts: answer.attempts,
        usage: answer.usage,
        responseFormat: answer.responseFormat,
        finishReason: answer.finishReason,
        answer: answer.content.slice(0, ANSWER_CAP),
        problems,
      });
      if ('draft' in checked) return { draft: checked.draft, rounds, usage, llmMs, systemPromptChars };
      messages.push(...repairMessages(answer.content, problems));
    }
    const n = this.config.GENERATOR_REPAIR_ROUNDS;
    return {
      failure: {
        status: 502,
        code: 'invalid_model_answer',
        message: `the model did not produce a valid workflow (${n} repair round${n === 1 ? '' : 's'}): ${problems.slice(0, 3).join('; ')}`,
        details: { problems },
      },
      rounds,
      usage,
      llmMs,
      systemPromptChars,
    };
  }

  /** The draft one answer yields, or what is wrong with it. */
  private checkAnswer(content: string, finishReason: string | null, ctx: DraftContext): { draft: FinalDraft } | { problems: string[] } {
    const parsed = parseAnswerJson(content);
    if (!parsed.ok) return { problems: finishReason === 'length' ? [...parsed.problems, 'the answer was cut off at the token limit; answer more briefly'] : parsed.problems };
    const env = readEnvelope(parsed.raw);
    if (!env.ok) return { problems: env.problems };
    const checked = finalizeDraft({ workflow: env.workflow, ...env.envelope }, ctx);
    return checked.ok ? { draft: checked.draft } : { problems: checked.problems };
  }
}

function fail(f: Failure): { ok: false; error: Failure } {
  return { ok: false, error: f };
}
