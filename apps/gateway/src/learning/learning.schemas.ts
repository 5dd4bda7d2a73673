import { z } from 'zod';
import { AnalyzerRunIdSchema, AnalyzerRunModeSchema, PatternIdSchema, PatternSortSchema } from '@toolpath/contracts';

const text = (max: number) => z.string().min(1).max(max);
const ratio = z.coerce.number().min(0).max(1);

export const PatternIdParam = PatternIdSchema;
export const RunIdParam = AnalyzerRunIdSchema;

export const ListPatternsQuery = z.strictObject({
  minSupport: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
  minSuccessRate: ratio.optional(),
  minConfidence: ratio.optional(),
  tool: text(200).optional(),
  userId: text(256).optional(),
  agentId: text(256).optional(),
  sort: PatternSortSchema.default('score'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListPatternsQuery = z.infer<typeof ListPatternsQuery>;

export const PatternQuery = z.strictObject({ examples: z.coerce.number().int().min(0).max(50).default(5) });
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

/** `tools=a,b` or `tools=a&tools=b`: the tools already called, in order. */
const toolList = z
  .union([z.string().max(20_000), z.array(z.string().max(20_000)).max(100)])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(text(200)).max(100, 'at most 100 tools'));

export const SuggestionsQuery = z
  .strictObject({
    intent: z.string().max(10_000).optional(),
    tools: toolList.optional(),
    userId: text(256).optional(),
    agentId: text(256).optional(),
    limit: z.coerce.number().int().min(1).max(50).default(5),
  })
  .refine((q) => (q.intent !== undefined && q.intent.trim() !== '') || (q.tools !== undefined && q.tools.length > 0), {
    path: ['intent'],
    message: 'give an intent, tools already called, or both',
  });
export type SuggestionsQuery = z.infer<typeof SuggestionsQuery>;

export const StatsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50) });
export type StatsQuery = z.infer<typeof StatsQuery>;

/** ISO-8601 or epoch milliseconds (as the events routes take them), as epoch ms. */
const timeParam = z
  .string()
  .refine((v) => /^\d{1,16}$/.test(v) || !Number.isNaN(Date.parse(v)), 'must be ISO-8601 or epoch milliseconds')
  .transform((v) => (/^\d{1,16}$/.test(v) ? Number(v) : Date.parse(v)))
  .pipe(z.number().int().min(-8.64e15, 'out of range').max(8.64e15, 'out of range'));

/** Filters of the process map (`GET /stats/flow`, `GET /stats/variants`). */
const flowFilter = {
  userId: text(256).optional(),
  agentId: text(256).optional(),
  intent: text(10_000).optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
};
const fromBeforeTo = (q: { from?: number; to?: number }) => q.from === undefined || q.to === undefined || q.from < q.to;
const fromBeforeToIssue = { path: ['to'], message: 'must be later than from' };

export const FlowStatsQuery = z.strictObject(flowFilter).refine(fromBeforeTo, fromBeforeToIssue);
export type FlowStatsQuery = z.infer<typeof FlowStatsQuery>;

export const VariantStatsQuery = z
  .strictObject({ ...flowFilter, limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(200).optional() })
  .refine(fromBeforeTo, fromBeforeToIssue);
export type VariantStatsQuery = z.infer<typeof VariantStatsQuery>;
