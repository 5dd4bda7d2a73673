import type { NextStepPrediction } from './mining-types';
import type { PatternCounter } from './pattern-counter';

/** After the tools already called, the usual next tools with their probability. */
export function predictNextSteps(_counter: PatternCounter, _called: string[], _limit = 5): NextStepPrediction[] {
  throw new Error('not implemented');
}
