import { z } from 'zod';
import { AnalyzerRunIdSchema, AnalyzerRunModeSchema, KeysetCursorSchema, PatternIdSchema, PatternSortSchema } from '@toolpath/contracts';
import { intParam, numberParam, text, timeParam, toolListParam } from '../common/query-params';

const ratio = numberParam(0, 1);

export const PatternIdParam = PatternIdSchema;
export const RunIdParam = AnalyzerRunIdSchema;

export const ListPatternsQuery = z.strictObject({
  minSupport: intParam(1, 1_000_000_000).optional(),
  minSuccessRate: ratio.optional(),
  minConfidence: ratio.optional(),
  tool: text(200).optional().describe('only patterns that call this tool'),
  userId: text(256).optional(),
  agentId: text(256).optional(),
  sort: PatternSortSchema.default('score'),
  limit: intParam(1, 200).default(50),
  cursor: KeysetCursorSchema.optional(),
});
export type ListPatternsQuery = z.infer<typeof ListPatternsQuery>;

export const PatternQuery = z.strictObject({ examples: intParam(0, 50).default(5) });
export type PatternQuery = z.infer<typeof PatternQuery>;

/** `POST /patterns/:id/promote`: optional overrides of the learned definition's name and description. */
export const PromoteBody = z
  .strictObject({ name: text(200).optional(), description: z.string().max(10_000).optional() })
  .optional()
  .transform((b) => b ?? {});
export type PromoteBody = z.infer<typeof PromoteBody>;

/** `POST /analyzer/runs`: answered when the run ends, or with 202 after `waitMs`. */
export const StartRunBody = z
  .strictObject({ mode: AnalyzerRunModeSchema.default('incremental'), waitMs: z.number().int().min(0).max(120_000).default(30_000) })
  .optional()
  .transform((b) => b ?? { mode: 'incremental' as const, waitMs: 30_000 });
export type StartRunBody = z.infer<typeof StartRunBody>;

export const SuggestionsQuery = z
  .strictObject({
    intent: z.string().max(10_000).optional(),
    tools: toolListParam(100).optional().describe('the tools already called, in order (repeat the parameter, or separate names with commas; the last 100 are used)'),
    userId: text(256).optional(),
    agentId: text(256).optional(),
    limit: intParam(1, 50).default(5),
  })
  .refine((q) => (q.intent !== undefined && q.intent.trim() !== '') || (q.tools !== undefined && q.tools.length > 0), {
    path: ['intent'],
    message: 'give an intent, tools already called, or both',
  });
export type SuggestionsQuery = z.infer<typeof SuggestionsQuery>;

export const StatsQuery = z.strictObject({ limit: intParam(1, 1000).default(50) });
export type StatsQuery = z.infer<typeof StatsQuery>;

/** Filters of the process map (`GET /stats/flow`, `GET /stats/variants`). */
const flowFilter = {
  userId: text(256).optional().describe('sessions of this user only'),
  agentId: text(256).optional().describe('sessions of this agent only'),
  intent: text(10_000).optional().describe('sessions with this intent (compared trimmed, spaces collapsed, lower case, as in GET /stats/intents)'),
  from: timeParam.optional().describe('sessions whose first call started at or after this time: epoch ms or ISO-8601'),
  to: timeParam.optional().describe('sessions whose first call started before this time (exclusive; later than `from`): epoch ms or ISO-8601'),
};
const fromBeforeTo = (q: { from?: number; to?: number }) => q.from === undefined || q.to === undefined || q.from < q.to;
const fromBeforeToIssue = { path: ['to'], message: 'must be later than from' };

export const FlowStatsQuery = z.strictObject(flowFilter).refine(fromBeforeTo, fromBeforeToIssue);
export type FlowStatsQuery = z.infer<typeof FlowStatsQuery>;

export const VariantStatsQuery = z
  .strictObject({ ...flowFilter, limit: intParam(1, 200).default(50), cursor: KeysetCursorSchema.optional() })
  .refine(fromBeforeTo, fromBeforeToIssue);
export type VariantStatsQuery = z.infer<typeof VariantStatsQuery>;
