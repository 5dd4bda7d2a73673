/**
 * Saving from the builder: the definition first (a new version, or a new workflow for a draft),
 * then where its steps are drawn. The definition is the part that matters: when only the canvas
 * fails the new version is kept and the error says so.
 *
 *   const saved = await saveWorkflow({ id: 'w1', expectedVersion: 3, definition, definitionChanged: true, positions, viewport });
 *   saved.workflow.version // 4
 *
 * A 400 from the gateway keeps its `details` (each with its stepId and field) so the page can pin
 * them on the nodes; a 409 means someone else saved a version since this one was loaded.
 */
import type { ApiSchemas } from '@toolpath/api-client';
import { api, ApiFailure } from '../../api/client';
import { putCanvas, type CanvasPosition, type CanvasViewport } from './canvasApi';
import type { Definition } from './definition';

export interface FieldProblem {
  stepId?: string;
  field: string;
  message: string;
}

/** A refused save: the status, the API's message, and what the API named field by field. */
export class SaveRefused extends ApiFailure {
  constructor(
    status: number,
    message: string,
    readonly details: FieldProblem[],
  ) {
    super(status, message);
  }
}

export interface SaveInput {
  /** The stored workflow's id; absent for a draft not yet in the catalog. */
  id?: string;
  /** The version the builder loaded: another save in between answers 409 instead of being overwritten. */
  expectedVersion?: number;
  definition: Definition;
  /** False when only positions moved: no new version then. */
  definitionChanged: boolean;
  positions: Record<string, CanvasPosition>;
  viewport?: CanvasViewport;
}

export interface Saved {
  workflow: ApiSchemas['StoredWorkflow'] | null;
  id: string;
  /** Set when the definition was stored but its canvas was not. */
  canvasError?: string;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

function stored<T>(answer: Answer<T>): T {
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  const body = (answer.error ?? {}) as { message?: string; details?: unknown };
  const details = Array.isArray(body.details) ? (body.details as FieldProblem[]).filter((d) => typeof d?.field === 'string') : [];
  throw new SaveRefused(answer.response.status, body.message ?? answer.response.statusText, details);
}

export async function saveWorkflow(input: SaveInput): Promise<Saved> {
  let workflow: ApiSchemas['StoredWorkflow'] | null = null;
  let id = input.id;
  if (id === undefined) {
    workflow = stored(await api.POST('/api/v1/workflows', { body: input.definition }));
    id = workflow.id;
  } else if (input.definitionChanged) {
    const body = { ...input.definition, ...(input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {}) };
    workflow = stored(await api.PUT('/api/v1/workflows/{id}', { params: { path: { id } }, body }));
  }
  const nodes = Object.fromEntries(input.definition.steps.filter((s) => input.positions[s.id]).map((s) => [s.id, roundPosition(input.positions[s.id])]));
  try {
    await putCanvas(id, { nodes, ...(input.viewport ? { viewport: input.viewport } : {}) });
  } catch (err) {
    if (!workflow) throw err;
    return { workflow, id, canvasError: (err as Error).message };
  }
  return { workflow, id };
}

/** Whole pixels: what is stored reads back exactly. */
function roundPosition(p: CanvasPosition): CanvasPosition {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}
