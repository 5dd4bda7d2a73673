import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

export interface AuthenticatedRequest {
  tenantId?: string;
  /** When the request came with the console's session cookie: when that session ends (ms). */
  sessionExpiresAt?: number;
}

/** The tenant of the API key that authenticated the request. */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const tenantId = ctx.switchToHttp().getRequest<AuthenticatedRequest>().tenantId;
  if (!tenantId) throw new Error('Tenant used on a route without authentication');
  return tenantId;
});
