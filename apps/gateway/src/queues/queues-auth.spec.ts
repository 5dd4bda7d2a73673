import type { FastifyRequest } from 'fastify';
import { QueuesAuth } from './queues-auth';

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` }, query: {} }) as unknown as FastifyRequest;
const config = (keys: Record<string, string>, tenants: string[] = []) => ({
  TOOLPATH_API_KEYS: new Map(Object.entries(keys)),
  GATEWAY_QUEUES_TENANTS: new Set(tenants),
});

describe('QueuesAuth: who may open the dashboard that shows every tenant’s jobs', () => {
  it('lets the keys of a single tenant in without a list', () => {
    const auth = new QueuesAuth(config({ 'key-one-0123456789': 'dev', 'key-two-0123456789': 'dev' }));
    expect(auth.check(bearer('key-two-0123456789'))).toEqual({ kind: 'allowed', tenantId: 'dev' });
    expect(auth.check(bearer('unknown-0123456789'))).toMatchObject({ kind: 'denied', status: 401 });
  });

  it('with keys of several tenants and no list, lets nobody in and names the setting', () => {
    const auth = new QueuesAuth(config({ 'key-acme-0123456789': 'acme', 'key-globex-0123456789': 'globex' }));
    for (const key of ['key-acme-0123456789', 'key-globex-0123456789']) {
      const outcome = auth.check(bearer(key));
      expect(outcome).toMatchObject({ kind: 'denied', status: 403 });
      expect(outcome.kind === 'denied' && outcome.message).toContain('GATEWAY_QUEUES_TENANTS');
    }
    // An unknown key is still told so first.
    expect(auth.check(bearer('unknown-0123456789'))).toMatchObject({ kind: 'denied', status: 401 });
  });

  it('with a list, lets in only the tenants it names', () => {
    const auth = new QueuesAuth(config({ 'key-acme-0123456789': 'acme', 'key-globex-0123456789': 'globex' }, ['acme']));
    expect(auth.check(bearer('key-acme-0123456789'))).toEqual({ kind: 'allowed', tenantId: 'acme' });
    expect(auth.check(bearer('key-globex-0123456789'))).toMatchObject({ kind: 'denied', status: 403, message: expect.stringContaining('globex') });
  });
});
