import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

/** Deletes the key only while it still holds our token (someone else's lock is never released). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extends the key's life only while it still holds our token. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  readonly token: string;
  /** True once a renewal found the lock gone or taken: the holder must stop before writing more. */
  readonly lost: boolean;
  release(): Promise<void>;
}

/**
 * The lock that makes several analyzers take turns: `SET key token NX PX ttl`, renewed every
 * third of its life while the run lasts, released by compare-and-delete. A holder that dies stops
 * renewing and the lock expires after `ttl`. The token starts with the run id, so a refused
 * caller can say which run holds it.
 */
export class RunLock {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  async tryAcquire(runId: string): Promise<HeldLock | undefined> {
    const token = `${runId}.${randomBytes(8).toString('hex')}`;
    const ok = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    let lost = false;
    const renew = async () => {
      try {
        const n = (await this.redis.eval(RENEW, 1, this.key, token, String(this.ttlMs))) as number;
        if (n !== 1) lost = true;
      } catch {
        // Redis unreachable: keep trying; the lock is lost only if it expired meanwhile, which the
        // next successful renewal finds out.
      }
      if (lost) clearInterval(timer);
    };
    const timer = setInterval(() => void renew(), Math.max(100, Math.floor(this.ttlMs / 3)));
    timer.unref();
    const key = this.key;
    const redis = this.redis;
    return {
      token,
      get lost() {
        return lost;
      },
      async release() {
        clearInterval(timer);
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }

  /** The run id holding the lock, if any. */
  async holder(): Promise<string | undefined> {
    const token = await this.redis.get(this.key).catch(() => null);
    return token ? token.slice(0, token.lastIndexOf('.')) : undefined;
  }
}
