import type { FastifyRequest } from 'fastify';
import { ApiKeys, keyDigest as digestOf } from '../auth/api-keys';
import type { GatewayConfig } from '../gateway.config';

export const QUEUES_COOKIE = 'toolpath_queues';

export type QueuesAuthOutcome =
  | { kind: 'allowed'; tenantId: string }
  /** A valid `?key=`: set this cookie value and redirect, so the key leaves the address bar. */
  | { kind: 'key-in-query'; tenantId: string; cookie: string }
  | { kind: 'denied'; status: 401 | 403; message: string };

/**
 * Who may open /queues: a Bearer key, `?key=` (only here), or the cookie that `?key=` set
 * (the key's digest). Same keys and constant-time comparison as the API's guard.
 */
export class QueuesAuth {
  private readonly keys: ApiKeys;
  /**
   * The dashboard shows every tenant's jobs. With one tenant's keys that is nobody else's; with
   * several, only the tenants GATEWAY_QUEUES_TENANTS names get in, and none if it is empty.
   */
  private readonly sharedWithoutList: boolean;

  constructor(private readonly config: Pick<GatewayConfig, 'TOOLPATH_API_KEYS' | 'GATEWAY_QUEUES_TENANTS'>) {
    this.keys = new ApiKeys(config.TOOLPATH_API_KEYS);
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
    const tenantId = digest ? this.keys.tenantOfDigest(digest) : undefined;
    if (!tenantId) return { kind: 'denied', status: 401, message: 'unknown API key' };
    const denied = this.denial(tenantId);
    if (denied) return { kind: 'denied', status: 403, message: denied };
    return kind === 'allowed' ? { kind, tenantId } : { kind, tenantId, cookie: digest!.toString('base64url') };
  }

  /**
   * Why this tenant may not see the shared queues (the dashboard, or their depth on the
   * console's overview), or `undefined` when it may.
   */
  denial(tenantId: string): string | undefined {
    if (this.sharedWithoutList) {
      return 'the queues hold every tenant\'s jobs: with keys of several tenants, name the tenants that may see them in GATEWAY_QUEUES_TENANTS';
    }
    const allowed = this.config.GATEWAY_QUEUES_TENANTS;
    if (allowed.size > 0 && !allowed.has(tenantId)) return `tenant "${tenantId}" may not see the shared queues (GATEWAY_QUEUES_TENANTS)`;
    return undefined;
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
