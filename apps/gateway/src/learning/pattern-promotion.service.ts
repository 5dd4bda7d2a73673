import { Injectable } from '@nestjs/common';
import { WorkflowRepository, workflowView, type StoredWorkflow } from '../workflows/workflow.repository';
import { WorkflowsService } from '../workflows/workflows.service';
import { AnalyzerClient } from './analyzer.client';
import type { PromoteBody } from './learning.schemas';

export interface Promotion {
  patternId: string;
  /** False when the pattern was already in the catalog (the existing workflow is returned). */
  created: boolean;
  workflow: StoredWorkflow;
}

/** Tag a promoted workflow carries, tying it back to its pattern (and making promotion idempotent). */
export function patternTag(patternId: string): string {
  return `pattern-${patternId}`;
}

/**
 * Promotion: a pattern's learned definition (source `learned`) becomes a catalog workflow, then
 * the analyzer marks the pattern promoted. The catalog is searched for an earlier promotion of the
 * same pattern first (by its tag), so a retry after a lost answer does not make a second copy.
 */
@Injectable()
export class PatternPromotionService {
  constructor(
    private readonly analyzer: AnalyzerClient,
    private readonly workflows: WorkflowsService,
    private readonly repo: WorkflowRepository,
  ) {}

  async promote(tenantId: string, patternId: string, overrides: PromoteBody = {}): Promise<Promotion> {
    const pattern = await this.analyzer.getPattern({ tenantId, patternId, examples: 0 });
    if (pattern.promotedWorkflowId) {
      const row = await this.repo.get(tenantId, pattern.promotedWorkflowId);
      if (row) return { patternId, created: false, workflow: workflowView(row) };
    }
    const tag = patternTag(patternId);
    const earlier = await this.repo.list(tenantId, { tag, source: 'learned' }, 1);
    if (earlier.items[0]) {
      await this.analyzer.markPromoted({ tenantId, patternId, workflowId: earlier.items[0].id });
      return { patternId, created: false, workflow: workflowView(earlier.items[0]) };
    }
    const { id: _id, ...learned } = pattern.workflow as Record<string, unknown> & { tags?: string[] };
    const tags = [...new Set([...(Array.isArray(learned.tags) ? learned.tags : []), 'learned', tag])].slice(-50);
    const definition = {
      ...learned,
      ...(overrides.name !== undefined ? { name: overrides.name } : {}),
      ...(overrides.description !== undefined ? { description: overrides.description } : {}),
      source: 'learned',
      tags,
    };
    const stored = await this.workflows.create(tenantId, definition);
    await this.analyzer.markPromoted({ tenantId, patternId, workflowId: stored.id });
    return { patternId, created: true, workflow: stored };
  }
}
