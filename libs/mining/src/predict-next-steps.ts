import type { NextStepPrediction } from './mining-types';
import { NextStepModel } from './next-step-model';
import { PatternCounter } from './pattern-counter';

/** Where next steps come from: the next-step model, and the counter as a fallback while the model is empty. */
export interface NextStepSources {
  model?: NextStepModel;
  counter?: PatternCounter;
}

/**
 * After the tools already called (and the session's intent, when known), the usual next tools
 * with their probability, most likely first.
 *
 * From a NextStepModel (immediate successors, smoothed over contexts of up to three calls, mixed
 * with what sessions of similar intents did next; see next-step-model.ts) whenever it has counted
 * a session. From a PatternCounter alone — or while the model is still empty, e.g. just after a
 * state saved before the model existed was loaded — the previous estimate: the share of the
 * sessions containing the longest known suffix of `called` in which the tool followed it within
 * maxGap other calls.
 */
export function predictNextSteps(source: PatternCounter | NextStepModel | NextStepSources, called: string[], limit = 5, intent?: string): NextStepPrediction[] {
  const model = source instanceof NextStepModel ? source : source instanceof PatternCounter ? undefined : source.model;
  const counter = source instanceof PatternCounter ? source : source instanceof NextStepModel ? undefined : source.counter;
  if (model && model.sessions > 0) return model.predict(called, intent, limit);
  if (!counter) return [];
  const { contextSupport, next } = counter.nextToolCounts(called);
  if (contextSupport <= 0) return [];
  return next.slice(0, Math.max(0, limit)).map((n) => ({ tool: n.tool, probability: Math.min(1, n.support / contextSupport), support: n.support }));
}
