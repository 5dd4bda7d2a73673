/**
 * Where a workflow's steps are drawn: `GET|PUT /api/v1/workflows/{id}/canvas`.
 *
 *   const canvas = await getCanvas('w1');           // { nodes: { fetch: { x, y } }, viewport: null | { x, y, zoom }, … }
 *   await putCanvas('w1', { nodes, viewport });     // the stored canvas
 */
import type { operations } from '@toolpath/api-client';
import { api, unwrap } from '../../api/client';

export type WorkflowCanvas = operations['CanvasController_get']['responses'][200]['content']['application/json'];
export type CanvasBody = operations['CanvasController_put']['requestBody']['content']['application/json'];
export type CanvasPosition = WorkflowCanvas['nodes'][string];
export type CanvasViewport = NonNullable<WorkflowCanvas['viewport']>;

export async function getCanvas(id: string): Promise<WorkflowCanvas> {
  return unwrap(await api.GET('/api/v1/workflows/{id}/canvas', { params: { path: { id } } }));
}

export async function putCanvas(id: string, body: CanvasBody): Promise<WorkflowCanvas> {
  return unwrap(await api.PUT('/api/v1/workflows/{id}/canvas', { params: { path: { id } }, body }));
}
