import type { WorkflowValidationError } from '@toolpath/workflow';

/**
 * Why the scheduler refused a request, in the run's own terms. The API (src/api/run-refusals.ts)
 * decides what each one answers; the scheduler knows nothing of status codes.
 */
export abstract class RunRequestError extends Error {
  abstract readonly kind: RunRefusal['kind'];
}

/** The start request does not have the shape of one (its message names the fields at fault). */
export class InvalidStartRequest extends RunRequestError {
  readonly kind = 'invalid-start-request';
}

/** A sub-workflow would nest deeper than EXECUTOR_MAX_DEPTH. */
export class DepthExceeded extends RunRequestError {
  readonly kind = 'depth-exceeded';
  constructor(
    readonly maxDepth: number,
    readonly depth: number,
  ) {
    super(`sub-workflows nest at most ${maxDepth} deep (this run would be at depth ${depth})`);
  }
}

/** The definition fails validation; `issues` are all its problems, the message names the first. */
export class InvalidWorkflow extends RunRequestError {
  readonly kind = 'invalid-workflow';
  constructor(readonly issues: readonly WorkflowValidationError[]) {
    const first = issues[0];
    const where = first?.stepId ? `step ${first.stepId}: ` : '';
    super(`invalid workflow definition: ${where}${first?.message ?? 'no issue given'}`);
  }
}

/** No run by that id for this tenant (a run of another tenant is not found either). */
export class RunNotFound extends RunRequestError {
  readonly kind = 'run-not-found';
  constructor(readonly executionId: string) {
    super(`execution ${executionId} not found`);
  }
}

/** Every refusal there is (the API answers each one). */
export type RunRefusal = InvalidStartRequest | DepthExceeded | InvalidWorkflow | RunNotFound;
