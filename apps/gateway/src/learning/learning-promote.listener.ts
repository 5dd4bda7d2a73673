import { HttpException, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_LEARNING_QUEUE_GROUP, LearningPromoteRequestSchema, errorReply, gatewayLearningSubjects, okReply } from '@toolpath/contracts';
import { APP_CONFIG, HealthRegistry, NatsClient, NatsRequestServer } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { PatternPromotionService } from './pattern-promotion.service';

/**
 * Automatic promotion (the analyzer's ANALYZER_AUTO_PROMOTE): the analyzer sends a pattern with its
 * learned definition, the gateway (the catalog's single writer) stores it as
 * `POST /patterns/:id/promote` would and answers the workflow's id; the analyzer then marks the
 * pattern promoted itself. Nothing here asks the analyzer, whose request is still open. A queue
 * group, so one gateway answers each request.
 */
@Injectable()
export class LearningPromoteListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('LearningPromote');
  private readonly server: NatsRequestServer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    nats: NatsClient,
    health: HealthRegistry,
    private readonly promotion: PatternPromotionService,
  ) {
    this.server = new NatsRequestServer({
      service: 'gateway',
      queue: GATEWAY_LEARNING_QUEUE_GROUP,
      nats,
      health,
      confirmTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
      healthCheck: 'learning-promote',
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server.serve(gatewayLearningSubjects(this.config.TOOLPATH_SUBJECT_PREFIX).promote, LearningPromoteRequestSchema, async (req) => {
      try {
        const done = await this.promotion.store(req.tenantId, req.patternId, req.workflow);
        return okReply({ workflowId: done.workflow.id, created: done.created });
      } catch (e) {
        // A definition the catalog refuses (400) is the analyzer's to hear about; anything else
        // (the store down) becomes the server's 503.
        if (!(e instanceof HttpException)) throw e;
        this.log.warn(`automatic promotion of ${req.patternId} (${req.tenantId}) refused: ${e.message}`);
        return errorReply(e.getStatus(), 'promotion_failed', e.message);
      }
    });
    await this.server.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }
}
