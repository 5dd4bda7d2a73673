import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The configured API keys, looked up by their SHA-256 digest in constant time (neither timing nor
 * a map lookup on the raw key leaks them), and the console's session tokens made from them.
 *
 * A session token is `v1.<key digest, hex>.<expiry ms>.<HMAC-SHA256 of the rest, keyed by the API
 * key>`: only a holder of the key can make one, it names its key without containing it, and it
 * stops working when it expires or when its key is removed from TOOLPATH_API_KEYS (no server-side
 * session store: every gateway of a deployment checks it alike).
 */
export class ApiKeys {
  private readonly keys: Array<{ key: string; digest: Buffer; tenantId: string }>;

  constructor(keys: Map<string, string>) {
    this.keys = [...keys].map(([key, tenantId]) => ({ key, digest: keyDigest(key), tenantId }));
  }

  tenantOf(key: string): string | undefined {
    return this.byDigest(keyDigest(key))?.tenantId;
  }

  /** The tenant of the key whose SHA-256 digest this is (a cookie may carry the digest, never the key). */
  tenantOfDigest(d: Buffer): string | undefined {
    return d.length === 32 ? this.byDigest(d)?.tenantId : undefined;
  }

  /** A session token for `key`, valid until `expiresAt` (ms). Undefined for an unknown key. */
  issueSession(key: string, expiresAt: number): string | undefined {
    const entry = this.byDigest(keyDigest(key));
    if (!entry) return undefined;
    const body = `v1.${entry.digest.toString('hex')}.${expiresAt}`;
    return `${body}.${hmac(entry.key, body)}`;
  }

  /** The tenant and expiry of a valid, unexpired token whose key is still configured. */
  verifySession(token: string, now = Date.now()): { tenantId: string; expiresAt: number } | undefined {
    const m = /^v1\.([0-9a-f]{64})\.(\d{1,16})\.([0-9a-f]{64})$/.exec(token);
    if (!m) return undefined;
    const entry = this.byDigest(Buffer.from(m[1], 'hex'));
    if (!entry) return undefined;
    const expected = Buffer.from(hmac(entry.key, `v1.${m[1]}.${m[2]}`), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(m[3], 'hex'))) return undefined;
    const expiresAt = Number(m[2]);
    return expiresAt > now ? { tenantId: entry.tenantId, expiresAt } : undefined;
  }

  private byDigest(d: Buffer): { key: string; digest: Buffer; tenantId: string } | undefined {
    let found: { key: string; digest: Buffer; tenantId: string } | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) found = k;
    return found;
  }
}

/** A key's SHA-256 digest: what keys are compared by. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function hmac(key: string, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}
