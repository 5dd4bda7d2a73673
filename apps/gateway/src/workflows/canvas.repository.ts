import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { Collections } from '@toolpath/contracts';
import type { CanvasBody, WorkflowCanvas } from './canvas.schemas';

/** One row per workflow: the builder's layout, apart from the definition so moving a node is not a new version. */
interface CanvasRow {
  _id: string;
  tenantId: string;
  workflowId: string;
  nodes: CanvasBody['nodes'];
  viewport: NonNullable<CanvasBody['viewport']> | null;
  updatedAt: Date;
}

const rowId = (tenantId: string, workflowId: string) => `${tenantId}:${workflowId}`;

/** The only code that reads or writes `workflow_canvases` (the gateway's own, private collection). */
@Injectable()
export class CanvasRepository {
  private readonly canvases: Collection<CanvasRow>;

  constructor(@InjectConnection() connection: Connection) {
    this.canvases = connection.db!.collection<CanvasRow>(Collections.workflowCanvases);
  }

  async get(tenantId: string, workflowId: string): Promise<WorkflowCanvas> {
    const row = await this.canvases.findOne({ _id: rowId(tenantId, workflowId) });
    return row ? canvasView(row) : { workflowId, nodes: {}, viewport: null, updatedAt: null };
  }

  /** The whole layout is replaced: the builder always sends every position it shows. */
  async put(tenantId: string, workflowId: string, body: CanvasBody): Promise<WorkflowCanvas> {
    const row: CanvasRow = { _id: rowId(tenantId, workflowId), tenantId, workflowId, nodes: body.nodes, viewport: body.viewport ?? null, updatedAt: new Date() };
    await this.canvases.replaceOne({ _id: row._id }, row, { upsert: true });
    return canvasView(row);
  }
}

function canvasView(row: CanvasRow): WorkflowCanvas {
  return { workflowId: row.workflowId, nodes: row.nodes, viewport: row.viewport, updatedAt: row.updatedAt.toISOString() };
}
