import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Msg, Subscription } from 'nats';
import {
  GENERATOR_QUEUE_GROUP,
  GenerateRequestSchema,
  GetGenerationRequestSchema,
  MAX_PROMPT_CHARS,
  generatorSubjects,
  type GeneratorReply,
} from '@toolpath/contracts';
import { APP_CONFIG, MetricsService, NatsClient } from '@toolpath/platform';
import type { GeneratorConfig } from '../generator.config';
import { GenerateWorkflowService } from '../generation/generate-workflow.service';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Reply = GeneratorReply<unknown>;

const fail = (status: number, code: string, message: string, details?: unknown): Reply => ({ ok: false, error: { status, code, message, ...(details ? { details } : {}) } });

function issuesText(issues: Array<{ path: PropertyKey[]; message: string }>): { message: string; details: Array<{ field: string; message: string }> } {
  const details = issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', message: i.message }));
  return { message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details };
}

/**
 * The generator's NATS request/reply API (queue group `generator`): `generate` and `get`. Every
 * message is validated here (the generator trusts no caller); at most GENERATOR_MAX_CONCURRENT
 * generations run at once and the rest are refused with 429 rather than queued past the callers'
 * timeouts.
 */
@Injectable()
export class GeneratorApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('GeneratorApi');
  private readonly subs: Subscription[] = [];
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: GeneratorConfig,
    private readonly nats: NatsClient,
    private readonly generations: GenerateWorkflowService,
    metrics: MetricsService,
  ) {
    const running = () => this.running;
    metrics.gauge('toolpath_generator_running', 'Generations in progress', [], function collect() {
      this.set(running());
    });
  }

  onApplicationBootstrap(): void {
    const subjects = generatorSubjects(this.config.TOOLPATH_SUBJECT_PREFIX);
    this.serve(subjects.generate, (body) => this.generate(body));
    this.serve(subjects.get, async (body) => {
      const req = GetGenerationRequestSchema.safeParse(body);
      if (!req.success) {
        const { message, details } = issuesText(req.error.issues);
        return fail(400, 'invalid_request', message, details);
      }
      return this.generations.get(req.data.tenantId, req.data.generationId);
    });
  }

  private async generate(body: unknown): Promise<Reply> {
    const prompt = (body as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt === 'string' && prompt.length > MAX_PROMPT_CHARS) {
      return fail(413, 'prompt_too_large', `prompt: ${prompt.length} characters, the limit is ${MAX_PROMPT_CHARS}`, [{ field: 'prompt', message: `at most ${MAX_PROMPT_CHARS} characters` }]);
    }
    const req = GenerateRequestSchema.safeParse(body);
    if (!req.success) {
      const { message, details } = issuesText(req.error.issues);
      return fail(400, 'invalid_request', message, details);
    }
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

  private serve(subject: string, handle: (body: unknown) => Promise<Reply>): void {
    this.subs.push(
      this.nats.nc.subscribe(subject, {
        queue: GENERATOR_QUEUE_GROUP,
        callback: (err, msg) => {
          if (err) return;
          const p = this.answer(msg, handle).finally(() => this.inFlight.delete(p));
          this.inFlight.add(p);
        },
      }),
    );
  }

  private async answer(msg: Msg, handle: (body: unknown) => Promise<Reply>): Promise<void> {
    let reply: Reply;
    try {
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(msg.data));
      } catch {
        msg.respond(encoder.encode(JSON.stringify(fail(400, 'invalid_json', 'request body is not JSON'))));
        return;
      }
      reply = await handle(body);
    } catch (err) {
      this.log.error(`request on ${msg.subject} failed: ${(err as Error).stack ?? String(err)}`);
      reply = fail(503, 'unavailable', `the generator could not answer: ${(err as Error).message}`);
    }
    msg.respond(encoder.encode(JSON.stringify(reply)));
  }

  /** Stops taking requests, then lets the ones in progress answer (bounded by the shutdown timeout). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.subs.map((s) => s.drain()));
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, this.config.SHUTDOWN_TIMEOUT_MS))]);
  }
}
