import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, ApiError, IS_PUBLIC } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import type { AuthenticatedRequest } from './tenant.decorator';

/**
 * `Authorization: Bearer <key>` on every route not marked @Public. Keys are compared by their
 * SHA-256 digest in constant time, so neither timing nor a map lookup on the raw key leaks them.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Array<{ digest: Buffer; tenantId: string }>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: GatewayConfig,
  ) {
    this.keys = [...config.TOOLPATH_API_KEYS].map(([key, tenantId]) => ({ digest: digest(key), tenantId }));
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (!header) throw new ApiError(401, 'missing Authorization header: use "Bearer <api key>"', { field: 'authorization' });
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new ApiError(401, 'Authorization header must be "Bearer <api key>"', { field: 'authorization' });
    const tenantId = this.tenantOf(match[1]);
    if (!tenantId) throw new ApiError(401, 'unknown API key', { field: 'authorization' });
    req.tenantId = tenantId;
    return true;
  }

  private tenantOf(key: string): string | undefined {
    const d = digest(key);
    let found: string | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) found = k.tenantId;
    return found;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
