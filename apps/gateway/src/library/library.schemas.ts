import { z } from 'zod';
import { intParam, toolListParam } from '../common/query-params';

/** Text whose surrounding blanks are dropped; all blank is as if left out (never a 400 the schema would not show). */
const text = (max: number) => z.string().min(1).max(max).transform((s) => s.trim() || undefined);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const TemplateIdParam = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'not a template id');

export const ListTemplatesQuery = z
  .object({
    category: text(100).optional(),
    q: text(200).optional().describe('words in the name, description, tags or tools'),
    tool: text(200).optional().describe('a tool one of the steps calls'),
  })
  .strict();
export type ListTemplatesQuery = z.infer<typeof ListTemplatesQuery>;

export const InstantiateBody = z
  .strictObject({
    /** Values for the template's variables; each becomes part of the copy. */
    variables: z.record(z.string(), z.unknown()).default({}),
    name: text(200).optional(),
    description: z.string().max(10_000).optional(),
    tags: z
      .array(z.string().min(1).max(64))
      .max(50)
      .transform((tags) => tags.map((t) => t.trim()).filter((t) => t.length > 0))
      .optional(),
  })
  .default({ variables: {} });
export type InstantiateBody = z.infer<typeof InstantiateBody>;

export const ApplyBody = z
  .strictObject({
    generationId: text(128).optional(),
    /** A draft (possibly edited) to store instead of a stored generation's. */
    workflow: z.unknown().optional(),
  })
  .refine((b) => (b.generationId === undefined) !== (b.workflow === undefined), { message: 'give exactly one of generationId and workflow', path: ['generationId'] });
export type ApplyBody = z.infer<typeof ApplyBody>;

export const SearchWorkflowsQuery = z
  .object({
    q: text(200).optional(),
    category: text(100).optional(),
    tag: text(64).optional(),
    tool: text(200).optional().describe('a tool the workflow must call'),
    tools: toolListParam(50).optional().describe('tools the workflow should cover, see `match` (repeat the parameter, or separate names with commas)'),
    /** `all`: the workflow calls every tool given; `any`: at least one (ranked by how many). */
    match: z.enum(['all', 'any']).default('all'),
    source: z.enum(['user', 'learned', 'generated', 'template']).optional(),
    /** Also search the built-in templates. */
    includeTemplates: bool.default(false),
    limit: intParam(1, 100).default(20),
  })
  .strict();
export type SearchWorkflowsQuery = z.infer<typeof SearchWorkflowsQuery>;
