import type { FastifyReply, FastifyRequest } from 'fastify';

/** The console's session cookie (see ApiKeys for its token). */
export const SESSION_COOKIE = 'toolpath_session';

/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it, so no
 * cross-site request forgery), Path=/ (the API and the event streams), Secure behind HTTPS.
 */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string, maxAgeS: number): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: isHttps(req), maxAge: maxAgeS });
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: isHttps(req) });
}

/** Behind a TLS-terminating proxy the request arrives over HTTP with `X-Forwarded-Proto: https`. */
function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https' || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() === 'https';
}
