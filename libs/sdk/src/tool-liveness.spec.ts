import { connect, type NatsConnection } from 'nats';
import { toolRegistryBucket, type ToolDefinition } from '@toolpath/contracts';
import { connectTestNats, testNames, testUrls, waitFor } from '@toolpath/testing';
import { serveTool, type ToolServer } from './serve-tool';
import { ToolRegistry } from './tool-registry';

/**
 * Registry liveness with real providers: short TTLs stand in for the 30 s default, and every
 * wait is a bounded `waitFor` on what the registry says, never a sleep-then-assert.
 */
const HEARTBEAT_MS = 100;
const TTL_MS = 1000;

const def = (name: string): ToolDefinition => ({ name, description: `the ${name} tool`, inputSchema: { type: 'object' } });

describe('tool registry liveness (serveTool heartbeat) against NATS', () => {
  let nc: NatsConnection;
  let prefix: string;
  let registry: ToolRegistry;
  const servers: ToolServer[] = [];
  const providers: NatsConnection[] = [];

  /** A provider on its own connection, so closing that connection is a crash (no stop()). */
  const provider = async (name: string, opts: { heartbeatMs?: number; ttlMs?: number } = {}) => {
    const c = await connect({ servers: testUrls.nats });
    providers.push(c);
    const server = await serveTool(c, def(name), () => 'ok', { prefix, heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS, ...opts });
    servers.push(server);
    return { c, server };
  };
  const listed = async () => (await registry.list()).map((e) => e.name);

  beforeEach(async () => {
    nc = await connectTestNats();
    prefix = testNames('sdklive').subjectPrefix;
    registry = new ToolRegistry(nc, prefix);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop({ timeoutMs: 100 })));
    await Promise.all(providers.splice(0).map((c) => (c.isClosed() ? undefined : c.close())));
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`KV_${toolRegistryBucket(prefix)}`).catch(() => undefined);
    await nc.close();
  });

  it('lists a served tool with expiresAt, drops it once its provider dies, and says it expired', async () => {
    const { c } = await provider('crm.lookup');
    const entry = await registry.get('crm.lookup');
    expect(entry?.expiresAt).toBeDefined();
    // Read back on the registry's clock: stored at (a moment after updatedAt) + the TTL.
    expect(Date.parse(entry!.expiresAt!) - Date.parse(entry!.updatedAt)).toBeGreaterThanOrEqual(TTL_MS);
    expect(Date.parse(entry!.expiresAt!) - Date.parse(entry!.updatedAt)).toBeLessThan(TTL_MS + 1000);
    // The heartbeat moves the entry forward while the provider runs.
    await waitFor(async () => ((await registry.get('crm.lookup'))?.updatedAt ?? '') > entry!.updatedAt, { timeoutMs: 5000, what: 'a heartbeat' });

    await c.close(); // a crash: no stop(), no more heartbeats
    await waitFor(async () => !(await listed()).includes('crm.lookup'), { timeoutMs: 10_000, what: 'the dead provider to drop out' });
    expect(await registry.get('crm.lookup')).toBeNull();
    const d = await registry.describe('crm.lookup');
    expect(d).toMatchObject({ name: 'crm.lookup', state: 'expired', entry: { name: 'crm.lookup' } });
    expect(d.message).toMatch(/^tool crm\.lookup expired at .+: no provider has announced it since /);
    expect((await registry.list(1000, { includeExpired: true })).map((e) => e.name)).toEqual(['crm.lookup']);
    expect(await registry.describe('never.served')).toMatchObject({ state: 'absent', message: 'tool never.served is not in the registry' });
  });

  it("counts a provider's TTL from when the registry stored its entry, whatever the provider's clock says", async () => {
    const kv = await nc.jetstream().views.kv(toolRegistryBucket(prefix), { history: 1 });
    const write = (name: string, skewMs: number, ttlMs: number) => {
      const at = Date.now() + skewMs;
      const entry = { ...def(name), updatedAt: new Date(at).toISOString(), expiresAt: new Date(at + ttlMs).toISOString(), provider: { id: name, sdk: 'typescript' } };
      return kv.put(name, JSON.stringify(entry));
    };
    // Ten minutes behind: by its own clock its entry expired long ago, yet it was just written.
    await write('slow.clock', -10 * 60_000, 30_000);
    // Ten minutes ahead with a 1 s TTL: by its own clock live for ten more minutes.
    await write('fast.clock', 10 * 60_000, 1000);
    const slow = await registry.describe('slow.clock');
    expect(slow.state).toBe('live');
    expect(Math.abs(Date.parse(slow.state === 'live' ? slow.entry.expiresAt! : '') - (Date.now() + 30_000))).toBeLessThan(2000);
    expect((await registry.get('fast.clock'))?.name).toBe('fast.clock');
    await waitFor(async () => (await registry.describe('fast.clock')).state === 'expired', { timeoutMs: 5000, what: 'the fast-clock entry to expire a TTL after it was stored' });
    expect((await listed()).sort()).toEqual(['slow.clock']);
  });

  it('keeps a tool listed while any instance heartbeats', async () => {
    const a = await provider('lb.echo');
    await provider('lb.echo');
    await a.c.close();
    const crashedAt = Date.now();
    // Wait until the entry was last written more than a TTL after instance A died: only B can
    // have written it. Every poll on the way must still find the tool listed.
    let misses = 0;
    await waitFor(
      async () => {
        const e = await registry.get('lb.echo');
        if (!e) misses++;
        return e !== null && Date.parse(e.updatedAt) > crashedAt + TTL_MS;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the surviving instance to keep the entry live' },
    );
    expect(misses).toBe(0);
    expect(await listed()).toEqual(['lb.echo']);
  });

  it('stop() leaves the entry to expire (never deletes it), and a restarted provider re-appears', async () => {
    const first = await provider('billing.refund');
    await first.server.stop();
    // Other instances may still serve the tool: stopping one does not delete the entry.
    expect((await registry.describe('billing.refund')).state).toBe('live');
    await waitFor(async () => (await registry.describe('billing.refund')).state === 'expired', { timeoutMs: 10_000, what: 'expiry after stop' });
    expect(await listed()).toEqual([]);

    await provider('billing.refund'); // the restart announces before serveTool resolves
    expect(await listed()).toEqual(['billing.refund']);
    expect((await registry.describe('billing.refund')).state).toBe('live');
  });

  it('works on a bucket created before liveness existed, and keeps its static entries', async () => {
    // The old format: the bucket without max_age, an entry without expiresAt (an older SDK).
    const kv = await nc.jetstream().views.kv(toolRegistryBucket(prefix), { history: 1 });
    await kv.put('legacy.tool', JSON.stringify({ name: 'legacy.tool', description: 'old sdk', inputSchema: {}, updatedAt: '2025-01-01T00:00:00.000Z', provider: { id: 'x', sdk: 'typescript' } }));
    await registry.announce(def('static.tool')); // no ttlMs: a static registration

    const { c } = await provider('fresh.tool');
    expect(await listed()).toEqual(['fresh.tool', 'legacy.tool', 'static.tool']);
    await c.close();
    await waitFor(async () => !(await listed()).includes('fresh.tool'), { timeoutMs: 10_000, what: 'the dead provider to drop out' });
    expect(await listed()).toEqual(['legacy.tool', 'static.tool']);
    expect(await registry.describe('legacy.tool')).toMatchObject({ state: 'live', message: expect.stringContaining('static registration') });

    // The bucket's configuration is left as it was: nothing migrated, nothing deleted.
    const info = await (await nc.jetstreamManager()).streams.info(`KV_${toolRegistryBucket(prefix)}`);
    expect(info.config.max_age).toBe(0);
    expect(info.config.max_msgs_per_subject).toBe(1);
  });

  it('refuses timings that cannot keep an entry live', async () => {
    await expect(serveTool(nc, def('bad.timing'), () => 1, { prefix, heartbeatMs: 1000, ttlMs: 1000 })).rejects.toThrow(/invalid liveness timings.*ttlMs \(1000\) larger/);
    await expect(serveTool(nc, def('bad.timing'), () => 1, { prefix, heartbeatMs: 0 })).rejects.toThrow(/heartbeatMs \(0\) must be positive/);
    await expect(registry.announce(def('bad.ttl'), { ttlMs: -5 })).rejects.toThrow(/invalid ttlMs -5/);
  });
});
