import type { components } from '@toolpath/api-client';

export type GenerateConstraints = NonNullable<components['schemas']['GenerateRequest']['constraints']>;

/** The form's constraint fields as the form holds them. */
export interface ConstraintFields {
  offline: boolean;
  /** '' when not set */
  maxSteps: number | string;
  /** comma-separated tool names; '' when not set */
  tools: string;
}

/**
 * The constraints to send: only what the user set, so the generator's own defaults apply to the
 * rest (an empty tool list would mean "no tool allowed", not "any tool").
 */
export function toConstraints(fields: ConstraintFields): GenerateConstraints | undefined {
  const constraints: GenerateConstraints = {};
  if (fields.offline) constraints.offline = true;
  const maxSteps = typeof fields.maxSteps === 'number' ? fields.maxSteps : Number.parseInt(fields.maxSteps, 10);
  if (Number.isInteger(maxSteps) && maxSteps > 0) constraints.maxSteps = maxSteps;
  const tools = fields.tools
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (tools.length > 0) constraints.tools = [...new Set(tools)];
  return Object.keys(constraints).length > 0 ? constraints : undefined;
}
