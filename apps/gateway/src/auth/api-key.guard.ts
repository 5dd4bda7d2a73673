import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError, IS_PUBLIC } from '@toolpath/platform';
import { ApiKeys } from './api-keys';
import { SESSION_COOKIE } from './session-cookie';
import type { AuthenticatedRequest } from './tenant.decorator';

/**
 * Every route not marked @Public needs `Authorization: Bearer <key>`, or the console's session
 * cookie (SameSite=Strict, HttpOnly: only pages of this origin send it, and no script reads it).
 * A header, when sent, decides: a bad key is refused even with a good cookie.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest & { cookies?: Record<string, string | undefined> }>();
    const header = req.headers.authorization;
    if (!header) {
      const token = req.cookies?.[SESSION_COOKIE];
      const session = token ? this.keys.verifySession(token) : undefined;
      if (session) {
        req.tenantId = session.tenantId;
        req.sessionExpiresAt = session.expiresAt;
        return true;
      }
      if (token) throw new ApiError(401, 'the session has expired or its key was revoked: sign in again', { field: 'cookie' });
      throw new ApiError(401, 'missing Authorization header: use "Bearer <api key>"', { field: 'authorization' });
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new ApiError(401, 'Authorization header must be "Bearer <api key>"', { field: 'authorization' });
    const tenantId = this.keys.tenantOf(match[1]);
    if (!tenantId) throw new ApiError(401, 'unknown API key', { field: 'authorization' });
    req.tenantId = tenantId;
    return true;
  }
}
