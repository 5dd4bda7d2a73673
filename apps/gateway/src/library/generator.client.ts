import { Inject, Injectable } from '@nestjs/common';
import {
  generatorSubjects,
  type GenerateRequest,
  type GenerationView,
  type GeneratorRequests,
  type GetGenerationRequest,
  type StoredGenerationView,
} from '@toolpath/contracts';
import { APP_CONFIG, NatsClient, NatsRequestClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

/**
 * The generator over NATS request/reply (queue group `generator`). The only gateway code that
 * talks to it; what fails is a named error that the HTTP edge maps to a status. A generation waits
 * for a model by design, so a generator that does not answer in time is late (504), and one that
 * nobody runs unavailable (503).
 */
@Injectable()
export class GeneratorClient {
  private readonly client: NatsRequestClient<GeneratorRequests>;

  constructor(
    nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.client = new NatsRequestClient({
      service: 'generator',
      subjects: generatorSubjects(config.TOOLPATH_SUBJECT_PREFIX),
      nats,
      timeoutMs: config.GATEWAY_GENERATOR_TIMEOUT_MS,
      slowService: true,
    });
  }

  generate(req: Omit<GenerateRequest, 'timeoutMs'>): Promise<GenerationView> {
    const timeoutMs = this.config.GATEWAY_GENERATOR_TIMEOUT_MS;
    return this.client.request('generate', { ...req, timeoutMs }, timeoutMs);
  }

  get(req: GetGenerationRequest): Promise<StoredGenerationView> {
    return this.client.request('get', req, this.config.GATEWAY_EXECUTOR_TIMEOUT_MS);
  }
}
