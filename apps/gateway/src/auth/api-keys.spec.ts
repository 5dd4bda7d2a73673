import { ApiKeys } from './api-keys';

const KEY = 'key-acme-0123456789abcdef';
const keys = () => new ApiKeys(new Map([[KEY, 'acme'], ['key-globex-0123456789abcdef', 'globex']]));

describe('ApiKeys sessions', () => {
  it('issues a token that names its tenant until it expires, without containing the key', () => {
    const now = 1_800_000_000_000;
    const token = keys().issueSession(KEY, now + 60_000)!;
    expect(token).not.toContain(KEY);
    expect(keys().verifySession(token, now)).toEqual({ tenantId: 'acme', expiresAt: now + 60_000 });
    expect(keys().verifySession(token, now + 60_000)).toBeUndefined();
  });

  it('refuses a token whose key was removed, one that was altered, and one for an unknown key', () => {
    const now = 1_800_000_000_000;
    const token = keys().issueSession(KEY, now + 60_000)!;
    expect(new ApiKeys(new Map([['key-globex-0123456789abcdef', 'globex']])).verifySession(token, now)).toBeUndefined();
    const longer = token.replace(/\.(\d+)\./, (_m, t: string) => `.${Number(t) + 1000}.`);
    expect(keys().verifySession(longer, now)).toBeUndefined();
    expect(keys().verifySession(`${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`, now)).toBeUndefined();
    expect(keys().issueSession('not-a-configured-key-000', now + 1)).toBeUndefined();
    expect(keys().verifySession('garbage', now)).toBeUndefined();
  });
});
