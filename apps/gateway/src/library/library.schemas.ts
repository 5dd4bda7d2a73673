import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);
/** `a,b` or a repeated parameter (`?tools=a&tools=b`), as a list. */
const list = (max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().max(200)).max(max));
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const TemplateIdParam = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'not a template id');

export const ListTemplatesQuery = z
  .object({
    category: text(100).optional(),
    q: text(200).optional(),
    tool: text(200).optional(),
  })
  .strict();
export type ListTemplatesQuery = z.infer<typeof ListTemplatesQuery>;

export const InstantiateBody = z
  .strictObject({
    /** Values for the template's variables; each becomes part of the copy. */
    variables: z.record(z.string(), z.unknown()).default({}),
    name: text(200).optional(),
    description: z.string().max(10_000).optional(),
    tags: z.array(text(64)).max(50).optional(),
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
    /** One tool the workflow must call. */
    tool: text(200).optional(),
    /** Tools the workflow should cover; see `match`. */
    tools: list(50).optional(),
    /** `all`: the workflow calls every tool given; `any`: at least one (ranked by how many). */
    match: z.enum(['all', 'any']).default('all'),
    source: z.enum(['user', 'learned', 'generated', 'template']).optional(),
    /** Also search the built-in templates. */
    includeTemplates: bool.default(false),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
export type SearchWorkflowsQuery = z.infer<typeof SearchWorkflowsQuery>;
