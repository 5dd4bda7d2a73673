import { Inject, Injectable } from '@nestjs/common';
import { generatorSubjects, type GenerateRequest, type GenerationView, type GetGenerationRequest } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import { NatsServiceClient } from '../nats/nats-service.client';

/** A stored generation as the generator returns it (`get`). */
export type StoredGeneration = GenerationView & { status: 'ok' | 'failed'; error?: { status: number; code: string; message: string } };

/**
 * The generator over NATS request/reply (queue group `generator`). The only gateway code that
 * talks to it: replies are checked and mapped to HTTP here; a generator that does not answer is a
 * 503 (none listening) or a 504 (no answer in time), naming it.
 */
@Injectable()
export class GeneratorClient {
  private readonly subjects: ReturnType<typeof generatorSubjects>;
  private readonly service: NatsServiceClient;

  constructor(
    nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.subjects = generatorSubjects(config.TOOLPATH_SUBJECT_PREFIX);
    this.service = new NatsServiceClient(nats, { service: 'generator', timeoutMs: config.GATEWAY_GENERATOR_TIMEOUT_MS, timeoutStatus: 504 });
  }

  generate(req: Omit<GenerateRequest, 'timeoutMs'>): Promise<GenerationView> {
    const timeoutMs = this.config.GATEWAY_GENERATOR_TIMEOUT_MS;
    return this.service.request<GenerationView>(this.subjects.generate, { ...req, timeoutMs }, timeoutMs);
  }

  get(req: GetGenerationRequest): Promise<StoredGeneration> {
    return this.service.request<StoredGeneration>(this.subjects.get, req, this.config.GATEWAY_EXECUTOR_TIMEOUT_MS);
  }
}
