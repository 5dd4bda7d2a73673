import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../gateway.config';

export const QUEUES_COOKIE = 'toolpath_queues';

export type QueuesAuthOutcome =
  | { kind: 'allowed'; tenantId: string }
  /** A valid `?key=`: set this cookie value and redirect, so the key leaves the address bar. */
  | { kind: 'key-in-query'; tenantId: string; cookie: string }
  | { kind: 'denied'; status: 401 | 403; message: string };

const digestOf = (key: string) => createHash('sha256').update(key).digest();

/**
 * Who may open /queues: a Bearer key, `?key=` (only here), or the cookie that `?key=` set
 * (the key's digest). Same keys and constant-time comparison as the API's guard.
 */
export class QueuesAuth {
  private readonly keys: Array<{ digest: Buffer; tenantId: string }>;
  /**
   * The dashboard shows every tenant's jobs. With one tenant's keys that is nobody else's; with
   * several, only the tenants GATEWAY_QUEUES_TENANTS names get in, and none if it is empty.
   */
  private readonly sharedWithoutList: boolean;

  constructor(private readonly config: Pick<GatewayConfig, 'TOOLPATH_API_KEYS' | 'GATEWAY_QUEUES_TENANTS'>) {
    this.keys = [...config.TOOLPATH_API_KEYS].map(([key, tenantId]) => ({ digest: digestOf(key), tenantId }));
    this.sharedWithoutList = config.GATEWAY_QUEUES_TENANTS.size === 0 && new Set(config.TOOLPATH_API_KEYS.values()).size > 1;
  }

  check(req: FastifyRequest): QueuesAuthOutcome {
    const header = req.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      return this.decide(match ? digestOf(match[1]) : undefined, 'allowed');
    }
    const queryKey = (req.query as Record<string, unknown> | undefined)?.key;
    if (typeof queryKey === 'string' && queryKey.length > 0) return this.decide(digestOf(queryKey), 'key-in-query');
    const cookie = cookieValue(req.headers.cookie, QUEUES_COOKIE);
    if (cookie) {
      const digest = Buffer.from(cookie, 'base64url');
      return this.decide(digest.length === 32 ? digest : undefined, 'allowed');
    }
    return { kind: 'denied', status: 401, message: 'the queue dashboard needs an API key: "Authorization: Bearer <key>" or open /queues?key=<key> once' };
  }

  private decide(digest: Buffer | undefined, kind: 'allowed' | 'key-in-query'): QueuesAuthOutcome {
    const tenantId = digest ? this.tenantOf(digest) : undefined;
    if (!tenantId) return { kind: 'denied', status: 401, message: 'unknown API key' };
    if (this.sharedWithoutList) {
      return {
        kind: 'denied',
        status: 403,
        message: 'the queue dashboard shows every tenant\'s jobs: with keys of several tenants, name the tenants that may open it in GATEWAY_QUEUES_TENANTS',
      };
    }
    const allowed = this.config.GATEWAY_QUEUES_TENANTS;
    if (allowed.size > 0 && !allowed.has(tenantId)) return { kind: 'denied', status: 403, message: `tenant "${tenantId}" may not open the queue dashboard` };
    return kind === 'allowed' ? { kind, tenantId } : { kind, tenantId, cookie: digest!.toString('base64url') };
  }

  private tenantOf(digest: Buffer): string | undefined {
    let found: string | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, digest)) found = k.tenantId;
    return found;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
