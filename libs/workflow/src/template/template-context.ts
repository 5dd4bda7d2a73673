import type { StepStatus } from '../step-status';

/**
 * What templates read: `input` (the run's input) and `steps` (one StepView per step that has a
 * state). Any other top-level name is refused by validation. Values must be plain objects,
 * arrays and JSON scalars: nothing else can be read.
 */
export type TemplateContext = Readonly<Record<string, unknown>>;

/** Top-level names a template may use. */
export const TEMPLATE_ROOTS: ReadonlySet<string> = new Set(['input', 'steps']);

/**
 * What `steps.<id>` exposes. The executor fills it; validation refuses other fields
 * (`steps.a.url` is a typo for `steps.a.result.url`).
 */
export interface StepView {
  status: StepStatus;
  result?: unknown;
  error?: string;
  attempts?: number;
}

export const STEP_VIEW_FIELDS: ReadonlySet<string> = new Set(['status', 'result', 'error', 'attempts']);
