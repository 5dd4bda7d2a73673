import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  GENERATOR_QUEUE_GROUP,
  GenerateRequestSchema,
  GetGenerationRequestSchema,
  MAX_PROMPT_CHARS,
  errorReply as fail,
  generatorSubjects,
  type GeneratorReply,
} from '@toolpath/contracts';
import { APP_CONFIG, HealthRegistry, MetricsService, NatsClient, NatsRequestServer, invalidRequest } from '@toolpath/platform';
import type { GeneratorConfig } from '../generator.config';
import { GenerateWorkflowService } from '../generation/generate-workflow.service';

/**
 * The generator's NATS request/reply API (queue group `generator`): `generate` and `get`. Every
 * message is validated here (the generator trusts no caller); at most GENERATOR_MAX_CONCURRENT
 * generations run at once and the rest are refused with 429 rather than queued past the callers'
 * timeouts.
 */
@Injectable()
export class GeneratorApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: NatsRequestServer;
  private running = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GeneratorConfig,
    private readonly generations: GenerateWorkflowService,
    metrics: MetricsService,
    nats: NatsClient,
    health: HealthRegistry,
  ) {
    // Shutdown lets the generations in progress answer (bounded by the shutdown timeout).
    this.server = new NatsRequestServer({
      service: 'generator',
      queue: GENERATOR_QUEUE_GROUP,
      nats,
      health,
      confirmTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
      drainTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    });
    const running = () => this.running;
    metrics.gauge('toolpath_generator_running', 'Generations in progress', [], function collect() {
      this.set(running());
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const subjects = generatorSubjects(this.config.TOOLPATH_SUBJECT_PREFIX);
    this.server.serve(subjects.generate, (body) => this.generate(body));
    this.server.serve(subjects.get, GetGenerationRequestSchema, (req) => this.generations.get(req.tenantId, req.generationId));
    await this.server.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }

  /** Validated here rather than by the server: an oversized prompt is a 413, checked first. */
  private async generate(body: unknown): Promise<GeneratorReply<unknown>> {
    const prompt = (body as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt === 'string' && prompt.length > MAX_PROMPT_CHARS) {
      return fail(413, 'prompt_too_large', `prompt: ${prompt.length} characters, the limit is ${MAX_PROMPT_CHARS}`, [{ field: 'prompt', message: `at most ${MAX_PROMPT_CHARS} characters` }]);
    }
    const req = GenerateRequestSchema.safeParse(body);
    if (!req.success) return invalidRequest(req.error);
    if (this.running >= this.config.GENERATOR_MAX_CONCURRENT) {
      return fail(429, 'busy', `the generator is working on ${this.running} generations (GENERATOR_MAX_CONCURRENT); try again shortly`);
    }
    this.running++;
    try {
      return await this.generations.generate(req.data);
    } finally {
      this.running--;
    }
  }
}
