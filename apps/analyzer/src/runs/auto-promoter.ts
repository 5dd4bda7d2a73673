import { Inject, Injectable, Logger } from '@nestjs/common';
import { JSONCodec } from 'nats';
import { learningPromoteSubject, type LearningPromoteRequest } from '@toolpath/contracts';
import type { MinedPattern } from '@toolpath/mining';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';

/** Promotions asked per tenant per run at most, so a first run on a big history does not flood the catalog. */
const MAX_PER_RUN = 20;
/** A pattern the gateway did not promote is asked again after this long. */
const RETRY_AFTER_MS = 10 * 60_000;

const codec = JSONCodec<unknown>();

/**
 * Automatic promotion (ANALYZER_AUTO_PROMOTE, off by default): after a run, patterns at or above
 * ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE that are not in the catalog yet are handed to the gateway,
 * the catalog's single writer, which promotes them as `POST /patterns/:id/promote` would. A
 * request that gets no answer is asked again after a while; one that succeeded is marked promoted
 * by the gateway, so it is not asked again.
 */
@Injectable()
export class AutoPromoter {
  private readonly log = new Logger('AutoPromoter');
  private readonly asked = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    private readonly nats: NatsClient,
  ) {}

  /** Fire and forget: the run does not wait for the gateway. */
  consider(tenantId: string, listed: MinedPattern[], promoted: Map<string, string>): void {
    const now = Date.now();
    const due = listed
      .filter((p) => p.confidence >= this.config.ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE && !promoted.has(p.id))
      .filter((p) => now - (this.asked.get(`${tenantId}:${p.id}`) ?? 0) > RETRY_AFTER_MS)
      .slice(0, MAX_PER_RUN);
    for (const p of due) {
      this.asked.set(`${tenantId}:${p.id}`, now);
      const body: LearningPromoteRequest = { tenantId, patternId: p.id };
      this.nats.nc
        .request(learningPromoteSubject(this.config.TOOLPATH_SUBJECT_PREFIX), codec.encode(body), { timeout: this.config.DEPENDENCY_TIMEOUT_MS * 2 })
        .then((msg) => {
          const reply = codec.decode(msg.data) as { ok?: boolean; error?: { message?: string } };
          if (reply.ok) this.log.log(`pattern ${p.id} of ${tenantId} promoted automatically (confidence ${p.confidence.toFixed(3)})`);
          else this.log.warn(`automatic promotion of ${p.id} (${tenantId}) refused: ${reply.error?.message ?? 'unknown reason'}`);
        })
        .catch((err: Error) => this.log.warn(`automatic promotion of ${p.id} (${tenantId}) got no answer: ${err.message}`));
    }
  }
}
