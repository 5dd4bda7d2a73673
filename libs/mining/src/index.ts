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
export { SessionAssembler, MiningInputError, compareSessionEvents, type SessionAssemblerOptions } from './session-assembler';
export { PatternCounter, type PatternCounterOptions } from './pattern-counter';
export { inferWorkflow, type InferWorkflowOptions, type InferredWorkflow } from './infer-workflow';
export { predictNextSteps } from './predict-next-steps';
