import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import type { BaseConfig } from '../config/base-config';
import { APP_CONFIG, SERVICE_INFO, type ServiceInfo } from '../config/tokens';
import { HealthRegistry } from './health-registry';
import { Public } from '../http/public.decorator';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: HealthRegistry,
    @Inject(APP_CONFIG) private readonly config: BaseConfig,
    @Inject(SERVICE_INFO) private readonly service: ServiceInfo,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.service.name };
  }

  @Get()
  @ApiOperation({ summary: 'Readiness: every dependency answers; 503 names the ones that do not' })
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const timeout = this.config.DEPENDENCY_TIMEOUT_MS;
    const checks = this.registry.entries().map(([name, check]) => async () => {
      const session = this.indicators.check(name);
      const started = performance.now();
      try {
        await withTimeout(check(), timeout, name);
        return session.up({ latencyMs: Math.round(performance.now() - started) });
      } catch (err) {
        return session.down({ message: err instanceof Error ? err.message : String(err) });
      }
    });
    try {
      const result = await this.health.check(checks);
      await reply.status(HttpStatus.OK).send({ ...result, service: this.service.name });
    } catch (err) {
      const result = (err as { response?: HealthCheckResult }).response;
      const down = Object.keys(result?.error ?? {});
      await reply.status(HttpStatus.SERVICE_UNAVAILABLE).send({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: `${this.service.name} is not ready: ${down.join(', ') || 'unknown'} down`,
        details: result ?? {},
      });
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
