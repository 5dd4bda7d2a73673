import { Inject, Injectable } from '@nestjs/common';
import {
  analyzerSubjects,
  type AnalyzerRunRef,
  type AnalyzerRunView,
  type FlowStatsRequest,
  type FlowStatsView,
  type IntentStatsView,
  type LearningHealthView,
  type ListPatternsRequest,
  type MarkPromotedRequest,
  type PatternDetail,
  type PatternRef,
  type PatternStatsView,
  type PatternView,
  type StartAnalyzerRunRequest,
  type StatsRequest,
  type SuggestionsView,
  type VariantPageView,
  type VariantStatsRequest,
} from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { NatsServiceClient } from '../nats/nats-service.client';

/** What a caller may ask of `suggest`: the tenant, and any of intent / tools already called / narrowing. */
export interface SuggestOptions {
  /** The request text (matched with BM25 against the intents of the sessions behind each workflow). */
  intent?: string;
  /** Tools already called in this session, in order (their usual next steps are predicted). */
  tools?: string[];
  userId?: string;
  agentId?: string;
  /** Suggestions returned at most (1–50, default 5). */
  limit?: number;
}

/**
 * The analyzer over NATS request/reply (queue group `analyzer`: one analyzer answers). The only
 * code in the gateway that talks to it; replies are checked and mapped to HTTP here, and an
 * analyzer that does not answer is a 503 naming it.
 */
@Injectable()
export class AnalyzerClient {
  private readonly subjects: ReturnType<typeof analyzerSubjects>;
  private readonly service: NatsServiceClient;

  constructor(
    nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.subjects = analyzerSubjects(config.TOOLPATH_SUBJECT_PREFIX);
    this.service = new NatsServiceClient(nats, { service: 'analyzer', timeoutMs: config.DEPENDENCY_TIMEOUT_MS });
  }

  /**
   * Ranked workflows for a tenant's session: catalog workflows before learned ones, learned ones
   * only above the analyzer's confidence threshold, each with `score` and `reasons`, plus
   * `nextSteps` (the usual next tools after `tools`). Throws an HttpException (503 when no
   * analyzer answers in DEPENDENCY_TIMEOUT_MS); callers that can do without suggestions should
   * catch it and carry on.
   */
  suggest(tenantId: string, opts: SuggestOptions = {}): Promise<SuggestionsView> {
    return this.service.request<SuggestionsView>(this.subjects.suggest, { tenantId, tools: [], ...opts });
  }

  startRun(req: Required<Pick<StartAnalyzerRunRequest, 'tenantId' | 'mode' | 'waitMs'>>): Promise<AnalyzerRunView> {
    // The analyzer answers when the run ends or after waitMs: wait a little longer than that.
    return this.service.request<AnalyzerRunView>(this.subjects.run, req, req.waitMs + this.config.DEPENDENCY_TIMEOUT_MS);
  }

  getRun(ref: AnalyzerRunRef): Promise<AnalyzerRunView> {
    return this.service.request<AnalyzerRunView>(this.subjects.getRun, ref);
  }

  listPatterns(req: ListPatternsRequest): Promise<{ items: PatternView[]; nextCursor: string | null }> {
    return this.service.request(this.subjects.listPatterns, req);
  }

  getPattern(ref: PatternRef): Promise<PatternDetail> {
    return this.service.request<PatternDetail>(this.subjects.getPattern, ref);
  }

  markPromoted(req: MarkPromotedRequest): Promise<{ patternId: string; workflowId: string }> {
    return this.service.request(this.subjects.markPromoted, req);
  }

  patternStats(req: StatsRequest): Promise<PatternStatsView> {
    return this.service.request<PatternStatsView>(this.subjects.patternStats, req);
  }

  intentStats(req: StatsRequest): Promise<IntentStatsView> {
    return this.service.request<IntentStatsView>(this.subjects.intentStats, req);
  }

  flowStats(req: FlowStatsRequest): Promise<FlowStatsView> {
    return this.service.request<FlowStatsView>(this.subjects.flowStats, req);
  }

  variantStats(req: VariantStatsRequest): Promise<VariantPageView> {
    return this.service.request<VariantPageView>(this.subjects.variantStats, req);
  }

  health(req: StatsRequest): Promise<LearningHealthView> {
    return this.service.request<LearningHealthView>(this.subjects.health, req);
  }
}
