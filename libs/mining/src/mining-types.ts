/** One tool-call or session_end event as mining needs it (the analyzer maps stored/streamed events to it). */
export interface MiningEvent {
  /** JetStream sequence: watermarks key on this, never on startedAt. */
  streamSeq: number;
  tenantId: string;
  sessionId: string;
  kind: 'tool_call' | 'session_end';
  /** tool_call only. */
  tool?: string;
  parameters?: Record<string, unknown>;
  result?: unknown;
  success: boolean;
  error?: string;
  /** Epoch ms. */
  startedAt: number;
  durationMs: number;
  /**
   * When the event reached Toolpath (epoch ms): the JetStream message timestamp, stored by the
   * recorder as `receivedAt`. Sessions go idle on this clock, never on startedAt, so historical
   * event times never split a case and every re-read gives the same sessions. Without it the
   * assembler falls back to the event's end time (startedAt + durationMs).
   */
  arrivedAt?: number;
  seq?: number;
  intent?: string;
  userId?: string;
  agentId?: string;
}

/** One tool call of an assembled session, in session order. */
export interface SessionStep {
  tool: string;
  parameters?: Record<string, unknown>;
  result?: unknown;
  /** True when the result was recorded as JSON text and is kept parsed (see compactResult). */
  resultJsonText?: boolean;
  success: boolean;
  error?: string;
  durationMs: number;
  startedAt: number;
}

/** A session the assembler has closed (by its session_end or after the idle window). */
export interface ClosedSession {
  tenantId: string;
  sessionId: string;
  userId?: string;
  agentId?: string;
  intent?: string;
  /** From the session_end; undefined when the session closed by idleness. */
  success?: boolean;
  steps: SessionStep[];
  startedAt: number;
  endedAt: number;
  /** Highest streamSeq of the events in this session. */
  lastStreamSeq: number;
  /** Tool calls dropped because the session exceeded maxStepsPerSession (the first ones are kept). */
  droppedSteps?: number;
  /** True when the session was closed by a session_end event. */
  ended?: boolean;
}

/** What the assembler keeps for a session that is still open (JSON-serialisable). */
export interface OpenSessionState {
  tenantId: string;
  sessionId: string;
  events: MiningEvent[];
  /** Tool calls already dropped for this session (over maxStepsPerSession). */
  droppedSteps: number;
  /** Latest activity (max of startedAt + durationMs) seen in the session. */
  lastActivityAt: number;
  /** Latest arrival (arrival clock, epoch ms) of the session's events; absent in state written before it existed. */
  lastArrivedAt?: number;
  /** Arrival of the session's session_end, when one arrived (null: it carried no arrival time). */
  endArrivedAt?: number | null;
}

export interface MinedPattern {
  /** Stable: sha1 of tenantId + tool sequence, 16 hex chars. */
  id: string;
  tenantId: string;
  tools: string[];
  /** Distinct sessions containing the sequence (gapped, at most maxGap unrelated calls between two steps). */
  support: number;
  /** Successful steps / steps, over the leftmost occurrence in each supporting session. */
  stepSuccessRate: number;
  /** Among supporting sessions closed by a session_end: the share that ended successfully. */
  sessionSuccessRate?: number;
  /** Sessions closed by a session_end among the supporting ones. */
  endedSessions: number;
  /** sessionSuccessRate when some session_end says so, else stepSuccessRate. */
  successRate: number;
  /** Sum of the matched steps' durationMs (time spent in the pattern's tools), mean over occurrences. */
  meanDurationMs: number;
  /** p95 of the same, from a bounded log-bucket sketch (relative error about 2%). */
  p95DurationMs: number;
  /** support × successRate. */
  score: number;
  /** Wilson lower bound (95%) of successRate over its evidence (sessions with a session_end, else steps). */
  confidence: number;
  /** Top intents of the supporting sessions (bounded top-K, counts may be over-estimates for rare ones). */
  intents: { text: string; count: number }[];
  /** Supporting sessions per user (bounded top-K). */
  supportByUser: Record<string, number>;
  /** Supporting sessions per agent (bounded top-K). */
  supportByAgent: Record<string, number>;
  /** Most recent supporting sessions kept as examples (newest last). */
  exampleSessionIds: string[];
  /** Ids of listed patterns made of the same tools in another order (independent steps seen in both orders). */
  variantIds: string[];
  /**
   * Per step: calls of the step's tool in a row at the matched place (a loop of one tool is one
   * step of a pattern), mean and most over the supporting sessions' leftmost occurrences.
   */
  stepRepeats: { mean: number; max: number }[];
  /** startedAt of the earliest / endedAt of the latest supporting session. */
  firstSeenAt: number;
  lastSeenAt: number;
}

/** One kept occurrence of a pattern: the matched steps in session order. */
export interface PatternOccurrence {
  sessionId: string;
  /** Id of the pattern (or order variant) this occurrence matched. */
  patternId: string;
  steps: SessionStep[];
}

export interface PatternFilter {
  minSupport?: number;
  minSuccessRate?: number;
  /** Support counted for this user only (from the bounded per-user counts). */
  userId?: string;
  agentId?: string;
  /** Only patterns with at least this many steps (default: options.minSteps). */
  minSteps?: number;
  /** Keep only the best-supported order of patterns made of the same tools (default true). */
  mergeVariants?: boolean;
  /** Overrides options.closedTolerance for this listing. */
  closedTolerance?: number;
  limit?: number;
}

/** A data-flow binding found by inferWorkflow: `parameter` of `stepId` is read from `from`. */
export interface InferredBinding {
  stepId: string;
  parameter: string;
  /** The template, e.g. `{{steps.s1.result.order.id}}`. */
  from: string;
  /** Share of occurrences where the value matched. */
  support: number;
}

export interface NextStepPrediction {
  tool: string;
  probability: number;
  support: number;
}

/** Counters describing the work and size of a PatternCounter. */
export interface PatternCounterStats {
  tenantId?: string;
  sessionsSeen: number;
  storedSteps: number;
  nodes: number;
  frequentNodes: number;
  /** Current counting threshold: max(minSupport, ceil(minSupportRatio × sessionsSeen)). */
  countingThreshold: number;
  /** Sessions whose enumeration hit maxWorkPerSession (their longer patterns may be under-counted). */
  truncatedSessions: number;
  /** Sessions cut to maxSessionSteps. */
  clippedSessions: number;
  /** Counting inner-loop visits so far (the tokens of the Map-increment comparison). */
  visits: number;
  promotions: number;
  /** Patterns waiting for promotion (deferred by the work budget; see PatternCounter.flushPromotions). */
  queuedPromotions: number;
}
