export type {
  MiningEvent,
  SessionStep,
  ClosedSession,
  OpenSessionState,
  MinedPattern,
  PatternOccurrence,
  PatternFilter,
  InferredBinding,
  NextStepPrediction,
  PatternCounterStats,
} from './mining-types';
export { DEFAULT_MINING_OPTIONS, resolveMiningOptions, type MiningOptions } from './mining-options';
export { SessionAssembler, MiningInputError, applyOpenChanges, compareSessionEvents, type OpenSessionChanges, type SessionAssemblerOptions } from './session-assembler';
export { PatternCounter, type PatternCounterOptions } from './pattern-counter';
export { inferWorkflow, type InferWorkflowOptions, type InferredWorkflow } from './infer-workflow';
export { predictNextSteps, type NextStepSources } from './predict-next-steps';
export { NextStepModel, DEFAULT_NEXT_STEP_OPTIONS, type NextStepModelOptions, type NextStepModelState } from './next-step-model';
export { intentTerms, intentTermSet, type IntentTermOptions, maskedIntent, stemTerm, ENTITY_SLOTS, type EntitySlot } from './intent-terms';
export {
  rankPatternsByIntent,
  qualityWeight,
  IntentPatternIndex,
  type RankablePattern,
  type RankedPattern,
  type SimilarSession,
  type IntentRankingEvidence,
  rankProcedure,
  type RankedProcedure,
} from './intent-ranking';
export { jaccardOf } from './tool-overlap';
export { typicalProcedure, procedureWorkflow, procedureKey, type TypicalProcedure } from './typical-procedure';
export { DurationSketch, LogResolution, FINE_RESOLUTION, COARSE_RESOLUTION } from './duration-sketch';
