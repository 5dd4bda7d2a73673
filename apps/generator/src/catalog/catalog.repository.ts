import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ExecutionReader, finishedRuns, runSuccessRate } from '@toolpath/execution-store';
import { PatternReader } from '@toolpath/pattern-store';
import { WorkflowReader, type CatalogWorkflow } from '@toolpath/workflow-store';

/**
 * What the generator knows of one catalog workflow: its card and stored definition (kept with
 * the snapshot so that an offline draft copies it without a database read: FerretDB answers even
 * an `_id` read in tens of ms under load), with how it has done.
 */
export interface CatalogEntry extends CatalogWorkflow {
  /** `runSuccessRate` of its runs, or the learned pattern's rate before any finished run; null when unknown. */
  successRate: number | null;
  /** Finished runs. */
  runs: number;
}

/**
 * The catalog as the generator sees it, read through the owners' store libraries: the gateway's
 * workflows, the executor's runs (for success rates) and the analyzer's patterns (the success
 * rate of a learned workflow that has not run yet). Reads are whole-tenant scans, made by
 * CatalogSnapshots when a tenant is first seen and in the background afterwards.
 */
@Injectable()
export class CatalogRepository {
  private readonly workflows: WorkflowReader;
  private readonly executions: ExecutionReader;
  private readonly patterns: PatternReader;

  constructor(@InjectConnection() connection: Connection) {
    this.workflows = new WorkflowReader(connection.db!);
    this.executions = new ExecutionReader(connection.db!);
    this.patterns = new PatternReader(connection.db!);
  }

  /** Live workflows of a tenant, newest first, at most `limit`; `truncated` when there were more. */
  async entries(tenantId: string, limit: number): Promise<{ entries: CatalogEntry[]; truncated: boolean }> {
    const [{ items, truncated }, runs, learned] = await Promise.all([
      this.workflows.withDefinitions(tenantId, limit),
      this.executions.finishedRunsByWorkflow(tenantId),
      this.patterns.promotedSuccessRates(tenantId),
    ]);
    const entries = items.map((w): CatalogEntry => {
      const tally = runs.get(w.id) ?? { completed: 0, failed: 0 };
      return { ...w, successRate: runSuccessRate(tally) ?? learned.get(w.id) ?? null, runs: finishedRuns(tally) };
    });
    return { entries, truncated };
  }
}
