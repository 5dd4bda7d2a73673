import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { stepToolSequence, type WorkflowDefinition } from '@toolpath/workflow';

/** What a learned workflow is known by: the pattern it was promoted from. */
export interface WorkflowEvidence {
  patternId: string;
  /** Sessions the pattern was seen in. */
  support: number;
  /** Share of its occurrences that succeeded (0–1). */
  successRate: number;
}

/** A catalog workflow as read for its tool. */
export interface WorkflowForTool {
  id: string;
  version: number;
  definition: WorkflowDefinition;
  evidence?: WorkflowEvidence;
}

/** Longest tool name made from a workflow name (MCP allows 128; clients show short ones better). */
const MAX_NAME = 64;

/**
 * A workflow name as an MCP tool name: lower case, `[a-z0-9_]` with single underscores (a double
 * one is how the recording gateway namespaces upstream tools, `<server>__<tool>`), at most 64.
 */
export function toolNameSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_NAME)
    .replace(/_+$/, '');
  return slug || 'workflow';
}

/**
 * Unique tool names for `workflows`, given oldest first so that a workflow keeps its name when a
 * newer one with the same name arrives: the first takes the plain slug, the next ones the slug
 * with the end of their id. `reserved` (the other tools) is never taken.
 */
export function assignToolNames(workflows: ReadonlyArray<{ id: string; name: string }>, reserved: ReadonlySet<string>): Map<string, string> {
  const taken = new Set(reserved);
  const names = new Map<string, string>();
  for (const w of workflows) {
    const slug = toolNameSlug(w.name);
    const tail = w.id.replace(/[^A-Za-z0-9]/g, '').slice(-8).toLowerCase();
    // Cut without a trailing "_", so that no name ever has "__".
    const cut = (max: number) => slug.slice(0, max).replace(/_+$/, '');
    let name = slug;
    if (taken.has(name)) name = `${cut(MAX_NAME - tail.length - 1)}_${tail}`;
    for (let n = 2; taken.has(name); n++) name = `${cut(MAX_NAME - tail.length - 6)}_${tail}_${n}`;
    taken.add(name);
    names.set(w.id, name);
  }
  return names;
}

const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;

/**
 * The MCP tool of a workflow: input schema = its `variables` (an object with no properties when
 * it declares none), description from its name, description, steps and evidence.
 */
export function workflowTool(name: string, w: WorkflowForTool, waitMs: number): Tool {
  const d = w.definition;
  const steps = stepToolSequence(d);
  const lines = [d.description.trim() || d.name];
  lines.push(`Toolpath workflow "${d.name}" (${w.id}, version ${w.version}, ${d.source}): calls ${steps.join(' → ')}.`);
  if (w.evidence) {
    lines.push(`Evidence: learned from ${w.evidence.support} session${w.evidence.support === 1 ? '' : 's'}, ${percent(w.evidence.successRate)} successful (pattern ${w.evidence.patternId}).`);
  }
  lines.push(`Runs the workflow with the arguments as its input and waits up to ${Math.round(waitMs / 1000)} s: the result, or the execution id to read with get_execution.`);
  const { type: _type, properties, required, ...rest } = d.variables ?? { type: 'object' as const };
  return {
    name,
    title: d.name,
    description: lines.join('\n'),
    inputSchema: { ...rest, type: 'object', properties: properties ?? {}, ...(required && required.length > 0 ? { required } : {}) },
    annotations: { title: d.name, readOnlyHint: false, openWorldHint: true },
    _meta: { 'toolpath/workflowId': w.id, 'toolpath/version': w.version },
  };
}
