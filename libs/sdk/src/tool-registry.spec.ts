import type { NatsConnection } from 'nats';
import { toolRegistryBucket } from '@toolpath/contracts';
import { connectTestNats, testNames } from '@toolpath/testing';
import { isToolEntryLive, parseToolRegistryEntry, ToolRegistry } from './tool-registry';

describe('ToolRegistry against NATS', () => {
  let nc: NatsConnection;
  let prefix: string;

  beforeEach(async () => {
    nc = await connectTestNats();
    prefix = testNames('sdkreg').subjectPrefix;
  });

  afterEach(async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`KV_${toolRegistryBucket(prefix)}`).catch(() => undefined);
    await nc.close();
  });

  it('creates the bucket with history 1 and supports announce/get/list/remove', async () => {
    const registry = new ToolRegistry(nc, prefix);
    expect(registry.bucket).toBe(`${prefix}_tools`);
    expect(await registry.list()).toEqual([]);
    expect(await registry.get('crm.lookup')).toBeNull();

    const stored = await registry.announce({ name: 'crm.lookup', description: 'find a customer', inputSchema: { type: 'object', required: ['email'] } });
    expect(stored).toMatchObject({ name: 'crm.lookup', provider: { sdk: 'typescript' } });
    await registry.announce({ name: 'billing.refund', description: 'refund', inputSchema: {}, outputSchema: { type: 'object' } });
    await registry.announce({ name: 'crm.lookup', description: 'find a customer (v2)', inputSchema: { type: 'object' } });

    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(`KV_${registry.bucket}`);
    expect(info.config.max_msgs_per_subject).toBe(1);

    expect(await registry.get('crm.lookup')).toMatchObject({ description: 'find a customer (v2)' });
    const list = await registry.list();
    expect(list.map((e) => e.name)).toEqual(['billing.refund', 'crm.lookup']);
    expect(list[0]).toMatchObject({ outputSchema: { type: 'object' } });
    expect(await registry.list(1)).toHaveLength(1);

    // A second registry object (another process, say) sees the same bucket.
    await expect(new ToolRegistry(nc, prefix).get('billing.refund')).resolves.toMatchObject({ name: 'billing.refund' });

    await registry.remove('crm.lookup');
    await registry.remove('never.there');
    expect(await registry.get('crm.lookup')).toBeNull();
    expect((await registry.list()).map((e) => e.name)).toEqual(['billing.refund']);
  });

  it('validates definitions and skips unreadable values', async () => {
    const registry = new ToolRegistry(nc, prefix);
    await expect(registry.announce({ name: 'has space', description: '', inputSchema: {} })).rejects.toThrow(/invalid tool definition/);
    await expect(registry.announce({ name: 'ok', description: 'x'.repeat(10_001), inputSchema: {} })).rejects.toThrow(/description/);

    const kv = await nc.jetstream().views.kv(registry.bucket);
    await kv.put('junk', 'not json');
    await kv.put('foreign', JSON.stringify({ name: 'foreign', description: 'by hand', inputSchema: {}, updatedAt: '2026-01-01T00:00:00Z' }));
    expect(await registry.get('junk')).toBeNull();
    expect(await registry.list()).toEqual([
      { name: 'foreign', description: 'by hand', inputSchema: {}, updatedAt: '2026-01-01T00:00:00Z', provider: { id: 'unknown', sdk: 'unknown' } },
    ]);
    expect(await registry.get('bad..name')).toBeNull();
  });

  it('parseToolRegistryEntry refuses non-entries', () => {
    expect(parseToolRegistryEntry('[]')).toBeNull();
    expect(parseToolRegistryEntry('{"name":"a","description":"d","inputSchema":{}}')).toBeNull();
  });

  it('reads expiresAt: absent never expires, past or malformed is expired', () => {
    const base = { name: 'a', description: 'd', inputSchema: {}, updatedAt: '2026-01-01T00:00:00Z' };
    const at = (expiresAt?: unknown) => parseToolRegistryEntry(JSON.stringify({ ...base, ...(expiresAt === undefined ? {} : { expiresAt }) }))!;
    const now = Date.parse('2026-01-01T00:00:10Z');
    expect(isToolEntryLive(at(), now)).toBe(true);
    expect(isToolEntryLive(at('2026-01-01T00:00:30Z'), now)).toBe(true);
    expect(isToolEntryLive(at('2026-01-01T00:00:05Z'), now)).toBe(false);
    expect(isToolEntryLive(at('soon'), now)).toBe(false);
    expect(at('2026-01-01T00:00:30Z').expiresAt).toBe('2026-01-01T00:00:30Z');
  });
});
