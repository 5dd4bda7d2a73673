import { Inject, Injectable, Logger } from '@nestjs/common';
import { gatewayLearningSubjects, type GatewayLearningRequests, type LearningPromoteReply } from '@toolpath/contracts';
import type { MinedPattern } from '@toolpath/mining';
import { APP_CONFIG, NatsClient, NatsErrorReply, NatsRequestClient } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import { PatternPromotions } from '../patterns/pattern-promotions';
import { TenantStates } from '../state/tenant-states.service';

/** Promotions asked per tenant per run at most, so a first run on a big history does not flood the catalog. */
const MAX_PER_RUN = 20;
/** A pattern the gateway did not promote is asked again after this long. */
const RETRY_AFTER_MS = 10 * 60_000;

/**
 * Automatic promotion (ANALYZER_AUTO_PROMOTE, off by default): after a run, patterns at or above
 * ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE that are not in the catalog yet are sent, with their
 * learned definition, to the gateway, the catalog's single writer, which stores them as
 * `POST /patterns/:id/promote` would. One request each, and the gateway asks nothing back: when it
 * answers, the analyzer marks the pattern promoted itself, so it is not asked again. A request that
 * gets no answer (or a pattern left unmarked) is asked again after a while; the gateway then finds
 * the copy it stored by its tag instead of making a second one.
 */
@Injectable()
export class AutoPromoter {
  private readonly log = new Logger('AutoPromoter');
  private readonly asked = new Map<string, number>();
  private readonly gateway: NatsRequestClient<GatewayLearningRequests>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    nats: NatsClient,
    private readonly states: TenantStates,
    private readonly promotions: PatternPromotions,
  ) {
    this.gateway = new NatsRequestClient({
      service: 'gateway',
      subjects: gatewayLearningSubjects(config.TOOLPATH_SUBJECT_PREFIX),
      nats,
      // Storing a workflow is a validation and two writes; twice the usual bound leaves room for a slow store.
      timeoutMs: config.DEPENDENCY_TIMEOUT_MS * 2,
    });
  }

  /** Fire and forget: the run does not wait for the gateway. `listed` are the tenant's patterns as its cached views list them. */
  consider(tenantId: string, listed: MinedPattern[], promoted: Map<string, string>): void {
    const views = this.states.cached(tenantId)?.views;
    if (!views) return;
    const now = Date.now();
    const due = listed
      .filter((p) => p.confidence >= this.config.ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE && !promoted.has(p.id))
      .filter((p) => now - (this.asked.get(`${tenantId}:${p.id}`) ?? 0) > RETRY_AFTER_MS)
      .slice(0, MAX_PER_RUN);
    for (const p of due) {
      this.asked.set(`${tenantId}:${p.id}`, now);
      const workflow = views.inferred(p).definition as unknown as Record<string, unknown>;
      void this.promote(tenantId, p, workflow);
    }
  }

  private async promote(tenantId: string, p: MinedPattern, workflow: Record<string, unknown>): Promise<void> {
    const what = `automatic promotion of ${p.id} (${tenantId})`;
    let stored: LearningPromoteReply;
    try {
      stored = await this.gateway.request('promote', { tenantId, patternId: p.id, workflow });
    } catch (err) {
      this.log.warn(err instanceof NatsErrorReply ? `${what} refused: ${err.message}` : `${what} got no answer: ${(err as Error).message}`);
      return;
    }
    try {
      const outcome = await this.promotions.markPromoted(tenantId, p.id, stored.workflowId);
      if (outcome === 'marked') this.log.log(`pattern ${p.id} of ${tenantId} promoted automatically to ${stored.workflowId} (confidence ${p.confidence.toFixed(3)})`);
      else this.log.warn(`${what}: stored as ${stored.workflowId} but not marked (${outcome})`);
    } catch (err) {
      this.log.warn(`${what}: stored as ${stored.workflowId} but not marked: ${(err as Error).message}`);
    }
  }
}
