import { HttpException, Inject, Injectable } from '@nestjs/common';
import { ErrorCode, JSONCodec, type NatsError } from 'nats';
import { generatorSubjects, type GenerateRequest, type GenerationView, type GeneratorReply, type GetGenerationRequest } from '@toolpath/contracts';
import { APP_CONFIG, ApiError, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';

const codec = JSONCodec<unknown>();

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

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

  constructor(
    private readonly nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.subjects = generatorSubjects(config.TOOLPATH_SUBJECT_PREFIX);
  }

  generate(req: Omit<GenerateRequest, 'timeoutMs'>): Promise<GenerationView> {
    const timeoutMs = this.config.GATEWAY_GENERATOR_TIMEOUT_MS;
    return this.request<GenerationView>(this.subjects.generate, { ...req, timeoutMs }, timeoutMs);
  }

  get(req: GetGenerationRequest): Promise<StoredGeneration> {
    return this.request<StoredGeneration>(this.subjects.get, req, this.config.GATEWAY_EXECUTOR_TIMEOUT_MS);
  }

  private async request<T>(subject: string, payload: unknown, timeoutMs: number): Promise<T> {
    let reply: unknown;
    try {
      const msg = await this.nats.nc.request(subject, codec.encode(payload), { timeout: timeoutMs });
      reply = codec.decode(msg.data);
    } catch (err) {
      throw unavailable(subject, err, timeoutMs);
    }
    if (!isReply(reply)) throw new ApiError(502, `the generator answered ${subject} with something that is not a generator reply`);
    if (reply.ok) return reply.value as T;
    const { status, code, message, details } = reply.error;
    const statusCode = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    throw new HttpException({ statusCode, error: REASONS[statusCode] ?? 'Error', message, details: { code, ...asObject(details) } }, statusCode);
  }
}

function asObject(details: unknown): Record<string, unknown> {
  if (Array.isArray(details)) return { issues: details };
  return typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {};
}

function unavailable(subject: string, err: unknown, timeoutMs: number): ApiError {
  const code = (err as NatsError)?.code;
  if (code === ErrorCode.Timeout) return new ApiError(504, `the generator did not answer within ${timeoutMs} ms (${subject})`, { dependency: 'generator', subject });
  const why = code === ErrorCode.NoResponders ? 'no generator is listening' : `request failed: ${String((err as Error)?.message ?? err)}`;
  return new ApiError(503, `the generator is unavailable (${why} on ${subject})`, { dependency: 'generator', subject });
}

function isReply(value: unknown): value is GeneratorReply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.ok === true) return 'value' in r;
  if (r.ok !== false || typeof r.error !== 'object' || r.error === null) return false;
  const e = r.error as Record<string, unknown>;
  return typeof e.status === 'number' && typeof e.message === 'string';
}
