import { HttpException, Inject, Injectable } from '@nestjs/common';
import { ErrorCode, JSONCodec, type NatsError } from 'nats';
import {
  analyzerSubjects,
  type AnalyzerRunRef,
  type AnalyzerRunView,
  type ExecutorReply,
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
} from '@toolpath/contracts';
import { APP_CONFIG, ApiError, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

const codec = JSONCodec<unknown>();

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  503: 'Service Unavailable',
};

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

  constructor(
    private readonly nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.subjects = analyzerSubjects(config.TOOLPATH_SUBJECT_PREFIX);
  }

  /**
   * Ranked workflows for a tenant's session: catalog workflows before learned ones, learned ones
   * only above the analyzer's confidence threshold, each with `score` and `reasons`, plus
   * `nextSteps` (the usual next tools after `tools`). Throws an HttpException (503 when no
   * analyzer answers in DEPENDENCY_TIMEOUT_MS); callers that can do without suggestions should
   * catch it and carry on.
   */
  suggest(tenantId: string, opts: SuggestOptions = {}): Promise<SuggestionsView> {
    return this.request<SuggestionsView>(this.subjects.suggest, { tenantId, tools: [], ...opts });
  }

  startRun(req: Required<Pick<StartAnalyzerRunRequest, 'tenantId' | 'mode' | 'waitMs'>>): Promise<AnalyzerRunView> {
    // The analyzer answers when the run ends or after waitMs: wait a little longer than that.
    return this.request<AnalyzerRunView>(this.subjects.run, req, req.waitMs + this.config.DEPENDENCY_TIMEOUT_MS);
  }

  getRun(ref: AnalyzerRunRef): Promise<AnalyzerRunView> {
    return this.request<AnalyzerRunView>(this.subjects.getRun, ref);
  }

  listPatterns(req: ListPatternsRequest): Promise<{ items: PatternView[]; nextCursor: string | null }> {
    return this.request(this.subjects.listPatterns, req);
  }

  getPattern(ref: PatternRef): Promise<PatternDetail> {
    return this.request<PatternDetail>(this.subjects.getPattern, ref);
  }

  markPromoted(req: MarkPromotedRequest): Promise<{ patternId: string; workflowId: string }> {
    return this.request(this.subjects.markPromoted, req);
  }

  patternStats(req: StatsRequest): Promise<PatternStatsView> {
    return this.request<PatternStatsView>(this.subjects.patternStats, req);
  }

  intentStats(req: StatsRequest): Promise<IntentStatsView> {
    return this.request<IntentStatsView>(this.subjects.intentStats, req);
  }

  health(req: StatsRequest): Promise<LearningHealthView> {
    return this.request<LearningHealthView>(this.subjects.health, req);
  }

  private async request<T>(subject: string, payload: unknown, timeoutMs = this.config.DEPENDENCY_TIMEOUT_MS): Promise<T> {
    let reply: unknown;
    try {
      const msg = await this.nats.nc.request(subject, codec.encode(payload), { timeout: timeoutMs });
      reply = codec.decode(msg.data);
    } catch (err) {
      throw unavailable(subject, err, timeoutMs);
    }
    if (!isReply(reply)) throw new ApiError(502, `the analyzer answered ${subject} with something that is not an analyzer reply`);
    if (reply.ok) return reply.value as T;
    const { status, code, message, details } = reply.error;
    const statusCode = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    throw new HttpException({ statusCode, error: REASONS[statusCode] ?? 'Error', message, details: details ?? { code } }, statusCode);
  }
}

function unavailable(subject: string, err: unknown, timeoutMs: number): ApiError {
  const code = (err as NatsError)?.code;
  const why =
    code === ErrorCode.NoResponders
      ? 'no analyzer is listening'
      : code === ErrorCode.Timeout
        ? `no answer within ${timeoutMs} ms`
        : `request failed: ${String((err as Error)?.message ?? err)}`;
  return new ApiError(503, `the analyzer is unavailable (${why} on ${subject})`, { dependency: 'analyzer', subject });
}

function isReply(value: unknown): value is ExecutorReply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.ok === true) return 'value' in r;
  if (r.ok !== false || typeof r.error !== 'object' || r.error === null) return false;
  const e = r.error as Record<string, unknown>;
  return typeof e.status === 'number' && typeof e.message === 'string';
}
