import type { NextStepPrediction } from './mining-types';
import type { PatternCounter } from './pattern-counter';

/**
 * After the tools already called, the usual next tools with their probability: the share of the
 * sessions containing the longest known suffix of `called` in which the tool followed it
 * (within maxGap other calls). With no known suffix, tools by the share of sessions using them.
 */
export function predictNextSteps(counter: PatternCounter, called: string[], limit = 5): NextStepPrediction[] {
  const { contextSupport, next } = counter.nextToolCounts(called);
  if (contextSupport <= 0) return [];
  return next.slice(0, Math.max(0, limit)).map((n) => ({ tool: n.tool, probability: Math.min(1, n.support / contextSupport), support: n.support }));
}
