import type { WorkflowDefinition } from '@toolpath/workflow';
import type { InferredBinding, MinedPattern, PatternOccurrence } from './mining-types';

export interface InferWorkflowOptions {
  /** Share of occurrences in which a value must match for a data-flow binding (default 0.9). */
  bindingMinShare?: number;
  /** Depth of result fields searched for data flow (default 4). */
  maxResultDepth?: number;
}

export interface InferredWorkflow {
  definition: WorkflowDefinition;
  bindings: InferredBinding[];
  /** Step ids that run in parallel (no dependency between them), each group of two or more. */
  parallelGroups: string[][];
}

/** A learned workflow definition v1 (source: 'learned') from a pattern and its occurrences. */
export function inferWorkflow(_pattern: MinedPattern, _occurrences: PatternOccurrence[], _opts: InferWorkflowOptions = {}): InferredWorkflow {
  throw new Error('not implemented');
}
