import { Injectable } from '@nestjs/common';
import type { ReadResourceResult, Resource } from '@modelcontextprotocol/sdk/types.js';
import { WorkflowReader } from '@toolpath/workflow-store';
import { WorkflowRepository, workflowView } from '../workflows/workflow.repository';

export const WORKFLOW_RESOURCE_TEMPLATE = 'toolpath://workflows/{id}';
/** Workflows `resources/list` names at most (the newest); any other is still read by its URI. */
const LISTED_WORKFLOWS = 500;

export function workflowResourceUri(workflowId: string): string {
  return `toolpath://workflows/${encodeURIComponent(workflowId)}`;
}

/** Catalog workflows as MCP resources: the stored workflow (definition, id, version, times) as JSON. */
@Injectable()
export class WorkflowResources {
  constructor(
    private readonly reader: WorkflowReader,
    private readonly repo: WorkflowRepository,
  ) {}

  async list(tenantId: string): Promise<Resource[]> {
    const { items } = await this.reader.summaries(tenantId, {}, LISTED_WORKFLOWS);
    return items.map((w) => ({
      uri: workflowResourceUri(w.id),
      name: w.id,
      title: w.name,
      ...(w.description ? { description: w.description } : {}),
      mimeType: 'application/json',
    }));
  }

  /** The workflow, or undefined when the tenant has none with this id. */
  async read(tenantId: string, uri: string, workflowId: string): Promise<ReadResourceResult | undefined> {
    const row = await this.repo.get(tenantId, workflowId);
    if (!row) return undefined;
    return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(workflowView(row), null, 2) }] };
  }
}
