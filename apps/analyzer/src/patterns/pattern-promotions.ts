import { Injectable } from '@nestjs/common';
import { TenantStateRepository } from '../state/tenant-state.repository';
import { TenantStates } from '../state/tenant-states.service';
import { PatternRepository } from './pattern.repository';

/** How marking a pattern promoted went: done, or why not. */
export type MarkOutcome = 'marked' | 'unknown_pattern' | 'no_state';

/**
 * Records that a pattern is in the catalog (as workflow `workflowId`): in the tenant's learned
 * state (kept across rebuilds), its `patterns` row, and the copy this analyzer holds in memory.
 * Asked by the gateway after `POST /patterns/:id/promote`, and by the automatic promotion once the
 * gateway has stored the workflow.
 */
@Injectable()
export class PatternPromotions {
  constructor(
    private readonly states: TenantStates,
    private readonly stateRows: TenantStateRepository,
    private readonly patternRows: PatternRepository,
  ) {}

  async markPromoted(tenantId: string, patternId: string, workflowId: string): Promise<MarkOutcome> {
    const entry = await this.states.forRead(tenantId);
    if (!entry.views.get(patternId)) return 'unknown_pattern';
    if (!(await this.stateRows.markPromoted(tenantId, patternId, workflowId))) return 'no_state';
    await this.patternRows.markPromoted(tenantId, patternId, workflowId);
    entry.state.promoted.set(patternId, workflowId);
    entry.state.revision++;
    // Our copy already has the promotion: bring its revision marker in line so it is not reloaded.
    const meta = await this.stateRows.headMeta(tenantId);
    if (meta && meta.version === entry.state.meta.version) entry.state.meta.promotedRev = meta.promotedRev;
    return 'marked';
  }
}
