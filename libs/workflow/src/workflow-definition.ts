import { MAX_TOOL_NAME_LENGTH } from '@toolpath/contracts';
import { z } from 'zod';
import {
  MAX_EXPRESSION_LENGTH,
  MAX_RETRY_ATTEMPTS,
  MAX_RETRY_DELAY_MS,
  MAX_STEPS,
  MAX_STEP_TIMEOUT_MS,
  STEP_ID_PATTERN,
} from './limits';

export const StepIdSchema = z
  .string()
  .regex(STEP_ID_PATTERN, 'must match ^[A-Za-z0-9_-]{1,64}$')
  .describe('Step id, unique in the workflow: letters, digits, "_" and "-", at most 64');

const ToolNameSchema = z.string().min(1).max(MAX_TOOL_NAME_LENGTH).describe('Name of the tool to call');

const ParametersSchema = z
  .record(z.string(), z.unknown())
  .describe(
    'Tool parameters. Strings may contain templates: "{{ input.x }}", "{{ steps.<id>.result.a.b[0] }}", ' +
      '"{{ x | default(\'y\') }}", ternaries, comparisons and and/or/not. A string that is exactly one ' +
      '{{ expression }} keeps the value\'s type; only steps listed (directly or transitively) in dependsOn can be read.',
  );

export const BackoffSchema = z
  .strictObject({
    type: z.enum(['fixed', 'exponential']),
    delayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).describe('Delay before the first retry'),
    maxDelayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).optional().describe('Cap on an exponential delay'),
  })
  .refine((b) => b.maxDelayMs === undefined || b.maxDelayMs >= b.delayMs, {
    message: 'maxDelayMs must be at least delayMs',
    path: ['maxDelayMs'],
  });

export const RetryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(MAX_RETRY_ATTEMPTS).describe('Attempts in all, the first included'),
  backoff: BackoffSchema,
  retryOn: z
    .array(z.string().min(1).max(200))
    .max(50)
    .optional()
    .describe('Error codes worth a retry (the executor defines them); when absent, errors the tool marks retryable and timeouts'),
});

/**
 * - `abort` (the default): the run fails; steps not started are cancelled.
 * - `continue`: the failure is tolerated; steps that depend on this one are skipped.
 * - `{ fallback }`: the named step runs instead; see step-readiness.ts.
 */
export const OnFailureSchema = z
  .union([z.enum(['abort', 'continue']), z.strictObject({ fallback: StepIdSchema })])
  .describe('What a failure (after retries) does: abort the run, continue without dependents, or run a fallback step');

export const CompensationSchema = z
  .strictObject({ tool: ToolNameSchema, parameters: ParametersSchema.default({}) })
  .describe('Undo action, run in reverse order for completed steps when a later failure rolls the run back');

export const WorkflowStepSchema = z.strictObject({
  id: StepIdSchema,
  tool: ToolNameSchema,
  parameters: ParametersSchema.default({}),
  dependsOn: z.array(StepIdSchema).max(MAX_STEPS).optional().describe('Steps that must complete first'),
  condition: z
    .string()
    .min(1)
    .max(MAX_EXPRESSION_LENGTH)
    .optional()
    .describe('Run only when this expression is true, e.g. "steps.check.result.count > 0"; otherwise the step is skipped'),
  retry: RetryPolicySchema.optional(),
  timeoutMs: z.number().int().min(1).max(MAX_STEP_TIMEOUT_MS).optional(),
  onFailure: OnFailureSchema.optional(),
  compensate: CompensationSchema.optional(),
});

export const WorkflowSourceSchema = z.enum(['user', 'learned', 'generated', 'template']);

/** JSON Schema (type "object") describing the run's input; other JSON Schema keywords pass through. */
export const WorkflowVariablesSchema = z
  .looseObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    required: z.array(z.string()).optional(),
  })
  .describe('JSON Schema of the run input, read in templates as input.<name>');

/** Workflow definition, contract v1 (docs/ARCHITECTURE.md#workflow-definition-v1). Unknown keys are refused, not dropped. */
export const WorkflowDefinitionSchema = z.strictObject({
  id: z.string().min(1).max(128).optional(),
  name: z.string().min(1).max(200),
  description: z.string().max(10_000),
  category: z.string().min(1).max(100).optional(),
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  variables: WorkflowVariablesSchema.optional(),
  steps: z.array(WorkflowStepSchema).min(1).max(MAX_STEPS),
  source: WorkflowSourceSchema,
});

export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;
/** What a caller may write: `parameters` may be left out. */
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type WorkflowStep = z.output<typeof WorkflowStepSchema>;
export type RetryPolicy = z.output<typeof RetryPolicySchema>;
export type Backoff = z.output<typeof BackoffSchema>;
export type OnFailure = z.output<typeof OnFailureSchema>;
export type Compensation = z.output<typeof CompensationSchema>;
export type WorkflowSource = z.output<typeof WorkflowSourceSchema>;
export type WorkflowVariables = z.output<typeof WorkflowVariablesSchema>;

/** The step a failure hands over to, if any. */
export function fallbackOf(step: Pick<WorkflowStep, 'onFailure'>): string | undefined {
  const policy = step.onFailure;
  return typeof policy === 'object' ? policy.fallback : undefined;
}

/**
 * JSON Schema (draft 2020-12) of a definition as written, for docs and for an LLM to answer
 * in. Checks that JSON Schema cannot express (ids, cycles, templates) are `validateWorkflow`'s.
 */
export function workflowDefinitionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowDefinitionSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
}
