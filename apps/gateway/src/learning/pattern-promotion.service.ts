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
 * Promotion: a pattern's learned definition (source `learned`) becomes a catalog workflow, and the
 * pattern is marked promoted. The catalog is searched for an earlier promotion of the same pattern
 * first (by its tag), so a retry after a lost answer does not make a second copy.
 *
 * Two callers, and neither waits on a request to the other side: `POST /patterns/:id/promote`
 * asks the analyzer for the pattern and, once stored, tells it (`promote`); the analyzer's
 * automatic promotion sends the definition with its request and marks the pattern itself when the
 * gateway answers (`store`, which asks nobody).
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
    const done = await this.store(tenantId, patternId, pattern.workflow, overrides);
    await this.analyzer.markPromoted({ tenantId, patternId, workflowId: done.workflow.id });
    return done;
  }

  /** Stores `learned` (the pattern's learned definition) in the catalog, or returns the copy an earlier promotion stored. */
  async store(tenantId: string, patternId: string, learned: Record<string, unknown>, overrides: PromoteBody = {}): Promise<Promotion> {
    const tag = patternTag(patternId);
    const earlier = await this.repo.list(tenantId, { tag, source: 'learned' }, 1);
    if (earlier.items[0]) return { patternId, created: false, workflow: workflowView(earlier.items[0]) };
    const { id: _id, ...definition } = learned as Record<string, unknown> & { tags?: unknown };
    const tags = [...new Set([...(Array.isArray(definition.tags) ? (definition.tags as string[]) : []), 'learned', tag])].slice(-50);
    const stored = await this.workflows.create(tenantId, {
      ...definition,
      ...(overrides.name !== undefined ? { name: overrides.name } : {}),
      ...(overrides.description !== undefined ? { description: overrides.description } : {}),
      source: 'learned',
      tags,
    });
    return { patternId, created: true, workflow: stored };
  }
}
