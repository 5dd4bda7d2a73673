import type { Db } from 'mongodb';
import { WorkflowReader, type CatalogWorkflow } from '@toolpath/workflow-store';

export type { CatalogWorkflow };

/** Workflows read per tenant at most for suggestions. */
const MAX_CATALOG = 20_000;

/**
 * A tenant's live catalog workflows for suggestions (one scan per refresh, not per query), read
 * through the store library of the gateway, which owns them.
 */
export class CatalogReader {
  private readonly workflows: WorkflowReader;

  constructor(db: Db) {
    this.workflows = new WorkflowReader(db);
  }

  async list(tenantId: string): Promise<CatalogWorkflow[]> {
    return (await this.workflows.withDefinitions(tenantId, MAX_CATALOG)).items;
  }
}
