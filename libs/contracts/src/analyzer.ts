import { z } from 'zod';
import type { Page } from './errors';
import { TENANT_ID_PATTERN } from './events';
import { KeysetCursorSchema } from './keyset-cursor';
import type { RequestReply, SubjectsOf } from './service-reply';

/**
 * Names and messages between the gateway and the analyzer (request/reply over NATS), and between
 * analyzer instances (the run lock, the durable consumer).
 *
 * WARNING: renaming a subject, consumer or lock key strands what is already there (a second
 * consumer would re-read the whole stream; two lock keys would let two runs overlap). Add a new
 * name and migrate; never rename in place.
 */

/** The analyzer's own durable consumer on the events stream (the recorder has its own). */
export const ANALYZER_CONSUMER = 'analyzer';
/** Queue group of the analyzer's request/reply subjects: one analyzer answers each request. */
export const ANALYZER_QUEUE_GROUP = 'analyzer';
/** Queue group of the gateway's learning subjects (automatic promotion). */
export const GATEWAY_LEARNING_QUEUE_GROUP = 'gateway-learning';

/** What each analyzer subject takes and answers (its reply is a `ServiceReply` of `reply`). */
export interface AnalyzerRequests {
  run: RequestReply<StartAnalyzerRunRequest, AnalyzerRunView>;
  getRun: RequestReply<AnalyzerRunRef, AnalyzerRunView>;
  listPatterns: RequestReply<ListPatternsRequest, Page<PatternView>>;
  getPattern: RequestReply<PatternRef, PatternDetail>;
  markPromoted: RequestReply<MarkPromotedRequest, MarkPromotedReply>;
  suggest: RequestReply<SuggestRequest, SuggestionsView>;
  patternStats: RequestReply<StatsRequest, PatternStatsView>;
  intentStats: RequestReply<StatsRequest, IntentStatsView>;
  health: RequestReply<StatsRequest, LearningHealthView>;
  flowStats: RequestReply<FlowStatsRequest, FlowStatsView>;
  variantStats: RequestReply<VariantStatsRequest, VariantPageView>;
}

export const analyzerSubjects = (prefix: string): SubjectsOf<AnalyzerRequests> => ({
  run: `${prefix}.analyzer.runs.start`,
  getRun: `${prefix}.analyzer.runs.get`,
  listPatterns: `${prefix}.analyzer.patterns.list`,
  getPattern: `${prefix}.analyzer.patterns.get`,
  markPromoted: `${prefix}.analyzer.patterns.promoted`,
  suggest: `${prefix}.analyzer.suggest`,
  patternStats: `${prefix}.analyzer.stats.patterns`,
  intentStats: `${prefix}.analyzer.stats.intents`,
  health: `${prefix}.analyzer.stats.health`,
  flowStats: `${prefix}.analyzer.stats.flow`,
  variantStats: `${prefix}.analyzer.stats.variants`,
});

/** What the gateway's learning subjects take and answer (queue group `gateway-learning`). */
export interface GatewayLearningRequests {
  /** Analyzer → gateway: store a pattern whose confidence passed the automatic-promotion threshold. */
  promote: RequestReply<LearningPromoteRequest, LearningPromoteReply>;
}

export const gatewayLearningSubjects = (prefix: string): SubjectsOf<GatewayLearningRequests> => ({
  promote: `${prefix}.gateway.learning.promote`,
});

/** Redis key of the lock that makes several analyzers take turns (one run at a time). */
export function analyzerRunLockKey(prefix: string): string {
  return `${prefix}:analyzer:run-lock`;
}

const tenantId = z.string().regex(TENANT_ID_PATTERN);
const text = (max: number) => z.string().min(1).max(max);
/** A pattern id: derived from the tenant and the tool sequence (hex). */
export const PatternIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a pattern id');
export const AnalyzerRunIdSchema = z.string().regex(/^(latest|run_[A-Za-z0-9_-]{1,64})$/, 'not a run id (run_… or latest)');

export const AnalyzerRunModeSchema = z.enum(['incremental', 'full']);
export type AnalyzerRunMode = z.infer<typeof AnalyzerRunModeSchema>;

/**
 * Gateway → analyzer: run now. `incremental` reads the events stream since the last run (all
 * tenants; the reply shows the caller's share); `full` rebuilds the caller's tenant from the store.
 * The reply comes when the run ends or after `waitMs`, whichever is first.
 */
export const StartAnalyzerRunRequestSchema = z.object({
  tenantId,
  mode: AnalyzerRunModeSchema.default('incremental'),
  waitMs: z.number().int().min(0).max(300_000).default(30_000),
});
export type StartAnalyzerRunRequest = z.input<typeof StartAnalyzerRunRequestSchema>;

export const AnalyzerRunRefSchema = z.object({ tenantId, runId: AnalyzerRunIdSchema });
export type AnalyzerRunRef = z.infer<typeof AnalyzerRunRefSchema>;

export const PatternSortSchema = z.enum(['score', 'support', 'confidence', 'lastSeen']);
export type PatternSort = z.infer<typeof PatternSortSchema>;

export const ListPatternsRequestSchema = z.object({
  tenantId,
  minSupport: z.number().int().min(1).max(1_000_000_000).optional(),
  minSuccessRate: z.number().min(0).max(1).optional(),
  minConfidence: z.number().min(0).max(1).optional(),
  tool: text(200).optional(),
  userId: text(256).optional(),
  agentId: text(256).optional(),
  sort: PatternSortSchema.default('score'),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: KeysetCursorSchema.optional(),
});
export type ListPatternsRequest = z.input<typeof ListPatternsRequestSchema>;

export const PatternRefSchema = z.object({ tenantId, patternId: PatternIdSchema, examples: z.number().int().min(0).max(50).default(5) });
export type PatternRef = z.input<typeof PatternRefSchema>;

export const MarkPromotedRequestSchema = z.object({ tenantId, patternId: PatternIdSchema, workflowId: text(128) });
export type MarkPromotedRequest = z.infer<typeof MarkPromotedRequestSchema>;
export interface MarkPromotedReply {
  patternId: string;
  workflowId: string;
}

export const SuggestRequestSchema = z.object({
  tenantId,
  intent: z.string().max(10_000).optional(),
  /** Tools already called in this session, in order. */
  tools: z.array(text(200)).max(100).default([]),
  userId: text(256).optional(),
  agentId: text(256).optional(),
  limit: z.number().int().min(1).max(50).default(5),
});
export type SuggestRequest = z.input<typeof SuggestRequestSchema>;

export const StatsRequestSchema = z.object({ tenantId, limit: z.number().int().min(1).max(1000).default(50) });
export type StatsRequest = z.input<typeof StatsRequestSchema>;

/** Filters of the process map: sessions of this user / agent / intent, started in [from, to) (epoch ms). */
const flowFilter = {
  tenantId,
  userId: text(256).optional(),
  agentId: text(256).optional(),
  /** Matched after normalisation (trimmed, spaces collapsed, lower case), as the intent statistics are. */
  intent: text(10_000).optional(),
  from: z.number().int().optional(),
  to: z.number().int().optional(),
};
const fromBeforeTo = (q: { from?: number; to?: number }) => q.from === undefined || q.to === undefined || q.from < q.to;
const fromBeforeToIssue = { path: ['to'], message: 'must be later than from' };

export const FlowStatsRequestSchema = z.object(flowFilter).refine(fromBeforeTo, fromBeforeToIssue);
export type FlowStatsRequest = z.input<typeof FlowStatsRequestSchema>;

export const VariantStatsRequestSchema = z
  .object({ ...flowFilter, limit: z.number().int().min(1).max(200).default(50), cursor: KeysetCursorSchema.optional() })
  .refine(fromBeforeTo, fromBeforeToIssue);
export type VariantStatsRequest = z.input<typeof VariantStatsRequestSchema>;

/**
 * Analyzer → gateway: the pattern and its learned definition (`PatternDetail.workflow`), so the
 * gateway stores it without asking the analyzer back; the analyzer marks the pattern promoted
 * itself once the gateway answers.
 */
export const LearningPromoteRequestSchema = z.object({ tenantId, patternId: PatternIdSchema, workflow: z.record(z.string(), z.unknown()) });
export type LearningPromoteRequest = z.infer<typeof LearningPromoteRequestSchema>;
/** The catalog workflow the pattern is in; `created` is false when an earlier promotion had stored it. */
export interface LearningPromoteReply {
  workflowId: string;
  created: boolean;
}

/** A mined pattern as clients see it (docs/ARCHITECTURE.md#shapes-clients-rely-on, "a pattern", plus what the analyzer knows). */
export interface PatternView {
  id: string;
  tools: string[];
  support: number;
  successRate: number;
  stepSuccessRate: number;
  sessionSuccessRate: number | null;
  meanDurationMs: number;
  p95DurationMs: number;
  score: number;
  confidence: number;
  intents: Array<{ text: string; count: number }>;
  supportByUser: Record<string, number>;
  supportByAgent: Record<string, number>;
  /** Per step: calls of its tool in a row (a loop is one step), mean and max over the occurrences. */
  stepRepeats: Array<{ mean: number; max: number }>;
  firstSeenAt: string;
  lastSeenAt: string;
  /** Catalog id of the workflow this pattern was promoted to, or null. */
  promotedWorkflowId: string | null;
}

export interface PatternExampleStep {
  tool: string;
  parameters?: Record<string, unknown>;
  result?: unknown;
  success: boolean;
  durationMs: number;
  startedAt: string;
}

/** `GET /patterns/:id`: the pattern, its learned definition and example sessions. */
export interface PatternDetail extends PatternView {
  /** A workflow definition v1 (source: learned). */
  workflow: Record<string, unknown>;
  bindings: Array<{ stepId: string; parameter: string; from: string }>;
  parallelGroups: string[][];
  examples: Array<{ sessionId: string; steps: PatternExampleStep[] }>;
}

export type AnalyzerRunStatus = 'running' | 'completed' | 'failed' | 'skipped';

/** One run as a tenant sees it: global facts plus that tenant's share. */
export interface AnalyzerRunView {
  id: string;
  mode: AnalyzerRunMode;
  trigger: 'schedule' | 'request';
  status: AnalyzerRunStatus;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** This tenant's messages read from the stream (incremental) or rows read from the store (full). */
  eventsRead: number;
  /** Of those, messages that failed validation (the recorder dead-letters them), skipped. */
  invalidEvents: number;
  /** Of those, redelivered messages at or below the tenant's watermark, skipped (already counted). */
  alreadyCounted: number;
  /** This tenant's share. */
  tenant: { events: number; sessionsClosed: number; patterns: number; patternsChanged: number };
  error?: string;
}

export interface Suggestion {
  /** Catalog id for a stored workflow (user, or a promoted learned one); absent for a not yet promoted pattern. */
  workflowId?: string;
  patternId?: string;
  source: 'user' | 'learned' | 'generated' | 'template';
  name: string;
  description?: string;
  score: number;
  confidence: number | null;
  tools: string[];
  /** Steps of this workflow the session already made (its prefix matched by the tools given). */
  matchedSteps: number;
  /** The tool this workflow would call next, when the tools given match its beginning. */
  nextTool?: string;
  reasons: string[];
  /** The workflow definition v1 to run or show. */
  workflow: Record<string, unknown>;
  /**
   * Present when the suggestion is the whole procedure past sessions with the most similar
   * intents followed (not yet a learned pattern: its workflow is a draft without parameters).
   */
  procedure?: {
    /** Similar sessions that made exactly these calls. */
    followedBy: number;
    /** Similar sessions considered. */
    neighbours: number;
    /** Weighted mean Jaccard overlap of its tools with theirs. */
    expectedOverlap: number;
  };
}

export interface SuggestionsView {
  items: Suggestion[];
  /** After the tools given, the usual next tools and their probability (empty without tools). */
  nextSteps: Array<{ tool: string; probability: number; support: number }>;
}

export interface LearningTally {
  total: number;
  successful: number;
  failed: number;
  successRate: number | null;
  meanDurationMs: number | null;
}

export interface PatternStatsView {
  items: Array<LearningTally & { patternId: string; tools: string[] }>;
}

export interface IntentStatsView {
  items: Array<LearningTally & { intent: string; topPatternIds: string[] }>;
}

export interface LearningHealthView {
  totals: LearningTally & { sessions: number; events: number; patterns: number; promoted: number; intents: number; openSessions: number };
  last24h: LearningTally & { sessions: number };
  /** Patterns worth automating: highest score above the confidence threshold, not yet promoted. */
  topCandidates: Array<{ patternId: string; tools: string[]; score: number; confidence: number; support: number; successRate: number }>;
  lastRun: AnalyzerRunView | null;
  watermark: number;
}

/** How a process-map answer was computed, and whether it is exact (docs/ANALYZER.md "Process map"). */
export interface FlowBasis {
  /**
   * `all`: the tenant's graph; `user` / `agent` / `intent`: that value's own aggregate;
   * `time-buckets`: hour/day/month/year aggregates; `recent-sessions`: a scan of the most recently
   * closed sessions.
   */
  source: 'all' | 'user' | 'agent' | 'intent' | 'time-buckets' | 'recent-sessions';
  /** False when the answer is approximate or incomplete; `notes` say why. */
  exact: boolean;
  /** The time range counted (sessions that started in [from, to)); wider than asked when time buckets were used. */
  from: string | null;
  to: string | null;
  notes: string[];
}

/** `GET /stats/flow`: the directly-follows graph of the tenant's closed sessions. */
export interface FlowStatsView {
  sessions: number;
  activities: Array<{ tool: string; count: number }>;
  edges: Array<{ from: string; to: string; count: number; meanGapMs: number; p95GapMs: number }>;
  starts: Array<{ tool: string; count: number }>;
  ends: Array<{ tool: string; count: number }>;
  basis: FlowBasis;
}

/** One variant: a distinct tool sequence of whole sessions. */
export interface VariantView {
  variantId: string;
  /** The sequence (its first 100 tools; `length` is the whole). */
  tools: string[];
  length: number;
  count: number;
  /** count / sessions of the answer. */
  share: number;
  successful: number;
  failed: number;
  successRate: number;
  meanDurationMs: number;
  /** False when earlier sessions of this variant may not be counted (it was first listed after the table was cut). */
  exact: boolean;
}

/** `GET /stats/variants`: most frequent first. */
export interface VariantPageView {
  items: VariantView[];
  nextCursor: string | null;
  /** Sessions the answer covers (listed variants and `otherSessions`). */
  sessions: number;
  /** Sessions of variants no longer listed (the table is bounded). */
  otherSessions: number;
  basis: FlowBasis;
}
