import type { WorkflowDefinition } from '@toolpath/workflow';

/** The latest version of a workflow, keyed `<tenantId>:<id>` so every lookup is an `_id` lookup. */
export interface WorkflowRow {
  _id: string;
  tenantId: string;
  id: string;
  version: number;
  definition: WorkflowDefinition;
  /** Denormalised for the list filters: `toolsOfWorkflow(definition)`. */
  tools: string[];
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
  /** Where the workflow came from, when not written by hand: kept across versions. */
  origin?: WorkflowOrigin;
}

/** The template it was instantiated from, or the generation it was applied from. */
export interface WorkflowOrigin {
  templateId?: string;
  generationId?: string;
}

/** Every version ever stored, keyed `<tenantId>:<id>:<version>`; kept after a delete. */
export interface WorkflowVersionRow {
  _id: string;
  tenantId: string;
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  createdAt: Date;
}

export const workflowRowId = (tenantId: string, id: string): string => `${tenantId}:${id}`;
export const workflowVersionRowId = (tenantId: string, id: string, version: number): string => `${tenantId}:${id}:${version}`;

const PATTERN_TAG_PREFIX = 'pattern-';

/** Tag a workflow promoted from a learned pattern carries, tying it back to that pattern. */
export function patternTag(patternId: string): string {
  return `${PATTERN_TAG_PREFIX}${patternId}`;
}

/** The pattern a workflow was promoted from, read from its tags (undefined when none). */
export function promotedPatternOf(tags: readonly string[]): string | undefined {
  return tags.find((t) => t.startsWith(PATTERN_TAG_PREFIX))?.slice(PATTERN_TAG_PREFIX.length);
}
