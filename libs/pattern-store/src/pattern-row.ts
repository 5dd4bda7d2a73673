/** A row of `patterns`: `_id` `<tenantId>:<patternId>`, the pattern and its learned definition. */
export interface PatternRow {
  _id: string;
  tenantId: string;
  id: string;
  tools: string[];
  support: number;
  successRate: number;
  stepSuccessRate: number;
  sessionSuccessRate: number | null;
  endedSessions: number;
  meanDurationMs: number;
  p95DurationMs: number;
  score: number;
  confidence: number;
  intents: Array<{ text: string; count: number }>;
  supportByUser: Record<string, number>;
  supportByAgent: Record<string, number>;
  exampleSessionIds: string[];
  variantIds: string[];
  /** Per step: calls of its tool in a row (a loop of one tool is one step), mean and most. */
  stepRepeats: Array<{ mean: number; max: number }>;
  firstSeenAt: Date;
  lastSeenAt: Date;
  definition: Record<string, unknown>;
  bindings: Array<{ stepId: string; parameter: string; from: string }>;
  parallelGroups: string[][];
  promotedWorkflowId: string | null;
  updatedAt: Date;
}
