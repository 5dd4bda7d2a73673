import { Inject, Injectable } from '@nestjs/common';
import {
  analyzerSubjects,
  type AnalyzerRequests,
  type AnalyzerRunRef,
  type AnalyzerRunView,
  type FlowStatsRequest,
  type FlowStatsView,
  type IntentStatsView,
  type LearningHealthView,
  type ListPatternsRequest,
  type MarkPromotedReply,
  type MarkPromotedRequest,
  type Page,
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
import { APP_CONFIG, NatsClient, NatsRequestClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

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
 * code in the gateway that talks to it; what fails is a named error (`NatsNoResponders`,
 * `NatsErrorReply`, ...) that the HTTP edge maps to a status (503 naming the analyzer when none
 * answers).
 */
@Injectable()
export class AnalyzerClient {
  private readonly client: NatsRequestClient<AnalyzerRequests>;

  constructor(
    nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.client = new NatsRequestClient({ service: 'analyzer', subjects: analyzerSubjects(config.TOOLPATH_SUBJECT_PREFIX), nats, timeoutMs: config.DEPENDENCY_TIMEOUT_MS });
  }

  /**
   * Ranked workflows for a tenant's session: catalog workflows before learned ones, learned ones
   * only above the analyzer's confidence threshold, each with `score` and `reasons`, plus
   * `nextSteps` (the usual next tools after `tools`). Throws a `NatsRequestError` (a 503 when no
   * analyzer answers in DEPENDENCY_TIMEOUT_MS); callers that can do without suggestions should
   * catch it and carry on.
   */
  suggest(tenantId: string, opts: SuggestOptions = {}): Promise<SuggestionsView> {
    return this.client.request('suggest', { tenantId, tools: [], ...opts });
  }

  startRun(req: Required<Pick<StartAnalyzerRunRequest, 'tenantId' | 'mode' | 'waitMs'>>): Promise<AnalyzerRunView> {
    // The analyzer answers when the run ends or after waitMs: wait a little longer than that.
    return this.client.request('run', req, req.waitMs + this.config.DEPENDENCY_TIMEOUT_MS);
  }

  getRun(ref: AnalyzerRunRef): Promise<AnalyzerRunView> {
    return this.client.request('getRun', ref);
  }

  listPatterns(req: ListPatternsRequest): Promise<Page<PatternView>> {
    return this.client.request('listPatterns', req);
  }

  getPattern(ref: PatternRef): Promise<PatternDetail> {
    return this.client.request('getPattern', ref);
  }

  markPromoted(req: MarkPromotedRequest): Promise<MarkPromotedReply> {
    return this.client.request('markPromoted', req);
  }

  patternStats(req: StatsRequest): Promise<PatternStatsView> {
    return this.client.request('patternStats', req);
  }

  intentStats(req: StatsRequest): Promise<IntentStatsView> {
    return this.client.request('intentStats', req);
  }

  flowStats(req: FlowStatsRequest): Promise<FlowStatsView> {
    return this.client.request('flowStats', req);
  }

  variantStats(req: VariantStatsRequest): Promise<VariantPageView> {
    return this.client.request('variantStats', req);
  }

  health(req: StatsRequest): Promise<LearningHealthView> {
    return this.client.request('health', req);
  }
}
