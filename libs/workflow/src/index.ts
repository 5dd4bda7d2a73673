export {
  MAX_STEPS,
  MAX_PARAMETERS_DEPTH,
  MAX_DEFINITION_BYTES,
  MAX_EXPRESSION_LENGTH,
  MAX_AST_DEPTH,
  MAX_RENDER_DEPTH,
  MAX_RETRY_ATTEMPTS,
  MAX_RETRY_DELAY_MS,
  MAX_STEP_TIMEOUT_MS,
  MAX_REPORTED_ERRORS,
  STEP_ID_PATTERN,
  FORBIDDEN_KEYS,
  isForbiddenKey,
} from './limits';
export {
  WorkflowDefinitionSchema,
  WorkflowStepSchema,
  StepIdSchema,
  RetryPolicySchema,
  BackoffSchema,
  OnFailureSchema,
  CompensationSchema,
  WorkflowSourceSchema,
  WorkflowVariablesSchema,
  workflowDefinitionJsonSchema,
  fallbackOf,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
  type WorkflowStep,
  type RetryPolicy,
  type Backoff,
  type OnFailure,
  type Compensation,
  type WorkflowSource,
  type WorkflowVariables,
} from './workflow-definition';
export {
  validateWorkflow,
  type ValidateWorkflowOptions,
  type WorkflowValidation,
  type WorkflowValidationError,
  type WorkflowErrorCode,
} from './validate-workflow';
export {
  buildStepGraph,
  stepGraphOf,
  findCycles,
  levelsOf,
  topologicalLevels,
  topologicalOrder,
  ancestorsOf,
  descendantsOf,
  criticalPath,
  compensationOrder,
  WorkflowCycleError,
  type StepGraph,
  type GraphStep,
  type GraphCycle,
  type WorkflowLike,
  type CriticalPath,
  type BuildStepGraphOptions,
} from './dag';
export { toolsOfWorkflow, stepToolSequence, workflowCard, type WorkflowCard, type CardFields, type ToolSteps } from './workflow-card';
export { applyInputDefaults, matchesDeclaredType, declaredJsonTypes, isJsonType, type JsonType } from './run-input';
export { StepStatus, TERMINAL_STEP_STATUSES, isTerminalStepStatus } from './step-status';
export { computeReadySteps, type StepStates, type StepReadiness, type SkippedStep } from './step-readiness';
export { TemplateError, type TemplateErrorCode, type TemplateErrorDetails } from './template/template-error';
export { TEMPLATE_ROOTS, STEP_VIEW_FIELDS, type TemplateContext, type StepView } from './template/template-context';
export { renderTemplate, renderParameters, evaluateExpression, evaluateCondition } from './template/render';
export { isTruthy } from './template/values';
export { isTemplate } from './template/parse-template';
export { FILTER_ARITY, type FilterName } from './template/filters';
export {
  analyzeTemplate,
  extractStepReferences,
  type TemplateReferences,
  type StepReference,
  type TemplateKind,
} from './template/template-references';
