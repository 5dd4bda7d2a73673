import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { APP_CONFIG, ApiError, Public, ZodValidationPipe } from '@toolpath/platform';
import { ref } from '../docs/openapi-refs';
import { ApiZodBody, ApiZodResponse } from '../docs/zod-openapi';
import type { GatewayConfig } from '../gateway.config';
import { ApiKeys } from './api-keys';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie';
import type { AuthenticatedRequest } from './tenant.decorator';

export const SignInBody = z.strictObject({ apiKey: z.string().min(1).max(1000).describe('an API key (TOOLPATH_API_KEYS)') });
type SignInBody = z.infer<typeof SignInBody>;

export const SessionView = z.object({
  tenantId: z.string(),
  expiresAt: z.string().nullable().describe('when the session ends; null for a request with an API key'),
});
type SessionView = z.infer<typeof SessionView>;

/**
 * The console's sign-in: an API key is exchanged for a session cookie, so the pages (and their
 * server-sent event streams, which cannot send headers) never hold the key.
 */
@ApiTags('session')
@Controller('session')
export class SessionController {
  private readonly ttlMs: number;

  constructor(
    private readonly keys: ApiKeys,
    @Inject(APP_CONFIG) config: GatewayConfig,
  ) {
    this.ttlMs = config.GATEWAY_SESSION_TTL_HOURS * 3_600_000;
  }

  @Post()
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: 'Sign in: exchange an API key for a session cookie (HttpOnly, SameSite=Strict)', description: `Sets the \`${SESSION_COOKIE}\` cookie; every route then accepts it instead of the Authorization header.` })
  @ApiZodBody(SignInBody)
  @ApiZodResponse(201, SessionView, 'Signed in; the cookie is set')
  @ApiResponse({ status: 400, description: 'No key in the body', schema: ref('ApiError') })
  @ApiResponse({ status: 401, description: 'Unknown API key', schema: ref('ApiError') })
  signIn(@Body(new ZodValidationPipe(SignInBody)) body: SignInBody, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): SessionView {
    const tenantId = this.keys.tenantOf(body.apiKey);
    const expiresAt = Date.now() + this.ttlMs;
    const token = this.keys.issueSession(body.apiKey, expiresAt);
    if (!tenantId || !token) throw new ApiError(401, 'unknown API key', [{ field: 'apiKey', message: 'unknown API key' }]);
    setSessionCookie(req, reply, token, Math.floor(this.ttlMs / 1000));
    return { tenantId, expiresAt: new Date(expiresAt).toISOString() };
  }

  @Get()
  @ApiBearerAuth()
  @ApiCookieAuth(SESSION_COOKIE)
  @ApiOperation({ summary: 'Who is signed in: the tenant of the session cookie (or of the API key sent)' })
  @ApiZodResponse(200, SessionView)
  @ApiResponse({ status: 401, description: 'No session, an expired one, or one whose key was revoked', schema: ref('ApiError') })
  current(@Req() req: FastifyRequest & AuthenticatedRequest): SessionView {
    return { tenantId: req.tenantId!, expiresAt: req.sessionExpiresAt !== undefined ? new Date(req.sessionExpiresAt).toISOString() : null };
  }

  @Delete()
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: the session cookie is cleared' })
  @ApiResponse({ status: 204, description: 'Signed out (also when there was no session)' })
  signOut(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): void {
    clearSessionCookie(req, reply);
  }
}
