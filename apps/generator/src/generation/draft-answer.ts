import { z } from 'zod';
import { WorkflowDefinitionSchema } from '@toolpath/workflow';

/**
 * What the model must answer: one JSON object. The workflow part is the contract's own zod
 * schema, so the JSON Schema the model is given and the validation of its answer cannot drift.
 */
export const DraftAnswerSchema = z.strictObject({
  explanation: z.string().max(10_000).describe('How the workflow does the task, in a few sentences'),
  workflow: WorkflowDefinitionSchema,
  missingTools: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(200).describe('Name for a tool that does not exist yet'),
        reason: z.string().max(2000).describe('What the tool would do and why the workflow needs it'),
      }),
    )
    .max(50)
    .describe('Tools the task needs that are not in the tool list (empty when every tool exists)'),
  reusedWorkflowIds: z.array(z.string().min(1).max(128)).max(50).describe('Ids of listed workflows this one reuses (copied steps, or called with workflow.run)'),
});
export type DraftAnswer = z.output<typeof DraftAnswerSchema>;

/** Name of the response format given to the server. */
export const DRAFT_SCHEMA_NAME = 'workflow_draft';

let cachedSchema: Record<string, unknown> | undefined;

/** JSON Schema of the answer (draft 2020-12), computed once. */
export function draftAnswerJsonSchema(): Record<string, unknown> {
  cachedSchema ??= z.toJSONSchema(DraftAnswerSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return cachedSchema;
}

export type ParsedAnswer = { ok: true; raw: Record<string, unknown> } | { ok: false; problems: string[] };

/**
 * The answer's JSON object. Models without JSON mode wrap JSON in prose or a ``` fence; the
 * outermost {...} is taken then. Anything else is a problem for the repair round to show.
 */
export function parseAnswerJson(content: string): ParsedAnswer {
  const text = content.trim();
  if (text.length === 0) return { ok: false, problems: ['the answer was empty; answer with one JSON object'] };
  const candidates = [text];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced) candidates.push(fenced[1].trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1));
  let error = '';
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, raw: value as Record<string, unknown> };
      error = 'the answer is JSON but not an object';
    } catch (err) {
      error = `the answer is not valid JSON (${(err as Error).message})`;
    }
  }
  return { ok: false, problems: [error] };
}

/**
 * Reads the answer's envelope leniently (models drop empty arrays) and leaves the workflow for
 * `validateWorkflow`, whose errors name steps and fields better than a schema error would.
 */
export function readEnvelope(raw: Record<string, unknown>): { ok: true; envelope: Omit<DraftAnswer, 'workflow'>; workflow: unknown } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (!('workflow' in raw)) {
    // Some models answer the bare workflow: accept it as such.
    if (Array.isArray(raw.steps)) return { ok: true, envelope: { explanation: '', missingTools: [], reusedWorkflowIds: [] }, workflow: raw };
    problems.push('the answer has no "workflow" object');
  }
  // Extra keys (a model's own "toolsUsed", say) are ignored: the generator computes those itself.
  const known = ['explanation', 'missingTools', 'reusedWorkflowIds'];
  const envelope = DraftAnswerSchema.omit({ workflow: true })
    .partial()
    .safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => known.includes(k))));
  if (!envelope.success) for (const i of envelope.error.issues) problems.push(`${i.path.join('.') || '(root)'}: ${i.message}`);
  if (problems.length > 0 || !envelope.success) return { ok: false, problems };
  const e = envelope.data;
  return {
    ok: true,
    envelope: { explanation: e.explanation ?? '', missingTools: e.missingTools ?? [], reusedWorkflowIds: e.reusedWorkflowIds ?? [] },
    workflow: raw.workflow,
  };
}
