import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { issuesFromZod, type FieldIssue } from '@toolpath/contracts';

/**
 * Arguments of Toolpath's own MCP tools: zod objects, so one definition both checks a call (each
 * wrong field named) and is the tool's `inputSchema` (JSON Schema). Unknown keys are refused, so
 * a misspelt argument is an error rather than silently ignored.
 */
const text = (max: number) => z.string().min(1).max(max);
const toolName = text(200);

export const SuggestArgs = z
  .strictObject({
    intent: z.string().max(10_000).optional().describe('What the agent is about to do, in its own words'),
    tools: z.array(toolName).max(100).optional().describe('Tools already called in this task, in order (their usual next steps are predicted)'),
    userId: text(256).optional(),
    agentId: text(256).optional(),
    limit: z.number().int().min(1).max(50).default(5).describe('Suggestions at most'),
  })
  .refine((a) => (a.intent !== undefined && a.intent.trim() !== '') || (a.tools !== undefined && a.tools.length > 0), {
    path: ['intent'],
    message: 'give an intent, tools already called, or both',
  });

export const SearchArgs = z.strictObject({
  q: text(200).optional().describe('Words to find in the name, tags, category, tools and description'),
  category: text(100).optional(),
  tag: text(64).optional(),
  tool: toolName.optional().describe('A tool the workflow must call'),
  tools: z.array(toolName).max(50).optional().describe('Tools the workflow should cover, see match'),
  match: z.enum(['all', 'any']).default('all').describe('all: the workflow calls every tool in tools; any: at least one (ranked by how many)'),
  source: z.enum(['user', 'learned', 'generated', 'template']).optional(),
  includeTemplates: z.boolean().default(false).describe('Also search the built-in templates'),
  limit: z.number().int().min(1).max(100).default(20),
});

export const RunArgs = z.strictObject({
  workflowId: text(128).describe('Catalog id of the workflow (wf_...)'),
  input: z.record(z.string(), z.unknown()).default({}).describe("The run's input: the workflow's variables"),
  waitMs: z.number().int().min(0).max(600_000).optional().describe('How long to wait for the run to finish (default: the server\'s); past it the execution id is returned'),
});

export const GetExecutionArgs = z.strictObject({
  executionId: text(128).describe('The id run_workflow returned'),
});

/** The parsed arguments, or every field that is wrong. */
export function parseArgs<S extends z.ZodType>(schema: S, args: Record<string, unknown>): { ok: true; value: z.output<S> } | { ok: false; fields: FieldIssue[] } {
  const parsed = schema.safeParse(args);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, fields: issuesFromZod(parsed.error) };
}

/** A zod object as an MCP tool's input schema (as callers write it: defaults make fields optional). */
export function inputSchemaOf(schema: z.ZodType): Tool['inputSchema'] {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return json as Tool['inputSchema'];
}
