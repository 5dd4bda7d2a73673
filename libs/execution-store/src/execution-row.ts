import type { ExecutionView } from '@toolpath/contracts';
import type { WorkflowDefinition } from '@toolpath/workflow';
import type { RunListFields } from './run-list';

/** A row of `executions`: the client view plus what the executor needs to answer for it later. */
export interface ExecutionDocument extends Omit<ExecutionView, 'id'>, RunListFields {
  _id: string;
  tenantId: string;
  name: string;
  definition: WorkflowDefinition;
  depth: number;
  updatedAt: Date;
}
