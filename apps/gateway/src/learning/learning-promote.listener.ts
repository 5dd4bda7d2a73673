import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import type { Subscription } from 'nats';
import { GATEWAY_LEARNING_QUEUE_GROUP, LearningPromoteRequestSchema, learningPromoteSubject, type ExecutorReply } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { PatternPromotionService } from './pattern-promotion.service';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Automatic promotion (the analyzer's ANALYZER_AUTO_PROMOTE): the analyzer asks, the gateway (the
 * catalog's single writer) promotes exactly as `POST /patterns/:id/promote` does. A queue group,
 * so one gateway answers each request.
 */
@Injectable()
export class LearningPromoteListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('LearningPromote');
  private sub?: Subscription;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly nats: NatsClient,
    private readonly promotion: PatternPromotionService,
  ) {}

  onApplicationBootstrap(): void {
    this.sub = this.nats.nc.subscribe(learningPromoteSubject(this.config.TOOLPATH_SUBJECT_PREFIX), {
      queue: GATEWAY_LEARNING_QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          let reply: ExecutorReply<unknown>;
          try {
            const req = LearningPromoteRequestSchema.parse(JSON.parse(decoder.decode(msg.data)));
            const done = await this.promotion.promote(req.tenantId, req.patternId);
            reply = { ok: true, value: { workflowId: done.workflow.id, created: done.created } };
          } catch (e) {
            const status = e instanceof HttpException ? e.getStatus() : 400;
            reply = { ok: false, error: { status, code: 'promotion_failed', message: (e as Error).message } };
            this.log.warn(`automatic promotion failed: ${(e as Error).message}`);
          }
          msg.respond(encoder.encode(JSON.stringify(reply)));
        })();
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sub?.drain().catch(() => undefined);
  }
}
