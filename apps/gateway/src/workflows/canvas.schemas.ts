import { z } from 'zod';
import { openapiSchema } from '../docs/zod-openapi';
import { MAX_STEPS, STEP_ID_PATTERN, StepIdSchema } from '@toolpath/workflow';

/** Far beyond any screen, near enough that every value survives a double round trip exactly. */
const COORDINATE_LIMIT = 10_000_000;
const coordinate = z.number().min(-COORDINATE_LIMIT).max(COORDINATE_LIMIT);

export const CanvasPosition = z.strictObject({ x: coordinate, y: coordinate });
/** The position's JSON Schema, as `patternProperties` below needs it written out. */
const openPosition = openapiSchema(CanvasPosition);

export const CanvasViewport = z.strictObject({
  x: coordinate,
  y: coordinate,
  zoom: z.number().min(0.01).max(100).describe('the scale the builder last showed the graph at'),
});

/**
 * Positions are keyed by step id, which is safe as a document field name (letters, digits, `_`
 * and `-`: never a `.` or a `$`). Positions of step ids the workflow no longer has are kept: the
 * builder saves the definition and the canvas as two requests, and a step may come back.
 */
const CanvasNodes = z
  .record(StepIdSchema, CanvasPosition)
  .refine((nodes) => Object.keys(nodes).length <= MAX_STEPS, `at most ${MAX_STEPS} positions`)
  // The key rule and the count, spelled out in the document too: a record's key schema is not
  // rendered, and `patternProperties` is the form every JSON Schema generator honours.
  .meta({ maxProperties: MAX_STEPS, additionalProperties: false, patternProperties: { [STEP_ID_PATTERN.source]: openPosition } })
  .describe('where each step is drawn, by step id');

/** `PUT /workflows/:id/canvas`. */
export const CanvasBody = z.strictObject({ nodes: CanvasNodes, viewport: CanvasViewport.optional() });
export type CanvasBody = z.infer<typeof CanvasBody>;

/** What `GET|PUT /workflows/:id/canvas` answer. */
export const WorkflowCanvas = z.strictObject({
  workflowId: z.string(),
  nodes: z.record(z.string(), CanvasPosition),
  viewport: CanvasViewport.nullable(),
  updatedAt: z.string().nullable().describe('when the canvas was last saved; null if never'),
});
export type WorkflowCanvas = z.infer<typeof WorkflowCanvas>;
