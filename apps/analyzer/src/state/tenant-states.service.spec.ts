import { Test, type TestingModule } from '@nestjs/testing';
import { APP_CONFIG, loadConfig } from '@toolpath/platform';
import { InMemoryTenantStateRepository } from '../../test/in-memory-infrastructure';
import { analyzerConfigSchema } from '../analyzer.config';
import { TenantStateRepository } from './tenant-state.repository';
import { TenantStates } from './tenant-states.service';

/**
 * The cache of tenants' states in front of their repository, with the repository in memory:
 * when a tenant is read from the store again, and when memory is enough.
 */
describe('TenantStates with its repository in memory', () => {
  let store: InMemoryTenantStateRepository;
  let app: TestingModule;
  let states: TenantStates;

  beforeEach(async () => {
    store = new InMemoryTenantStateRepository();
    app = await Test.createTestingModule({
      providers: [{ provide: APP_CONFIG, useValue: loadConfig(analyzerConfigSchema, { ANALYZER_STATE_CHECK_MS: '60000' }) }, TenantStateRepository, TenantStates],
    })
      .overrideProvider(TenantStateRepository)
      .useValue(store)
      .compile();
    states = app.get(TenantStates);
  });
  afterEach(() => app.close());

  /** The tenant as a run leaves it: persisted once, so the store has a version of it. */
  async function persisted(tenantId: string) {
    const { state } = await states.forRun(tenantId);
    await store.persist(state);
    return state;
  }

  it('gives a tenant never stored a fresh state, loaded once however many ask at the same time', async () => {
    const [a, b] = await Promise.all([states.forRun('acme'), states.forRun('acme')]);
    expect(a).toBe(b);
    expect(store.loads).toBe(1);
    expect(a.state).toMatchObject({ tenantId: 'acme', watermark: 0, meta: { version: 0 } });
    expect(states.cached('acme')).toBe(a);
  });

  it('serves a query from memory within ANALYZER_STATE_CHECK_MS, while a run always checks the stored version', async () => {
    await persisted('acme');
    const headReads = store.headReads;
    const read = await states.forRead('acme');
    await states.forRead('acme');
    expect(store.headReads).toBe(headReads);
    const run = await states.forRun('acme');
    expect(store.headReads).toBe(headReads + 1);
    expect(run).toBe(read);
    expect(store.loads).toBe(1);
  });

  it('reloads a tenant another analyzer has written since, into a new entry', async () => {
    await persisted('acme');
    const before = states.cached('acme');
    store.writtenElsewhere('acme');
    const after = await states.forRun('acme');
    expect(store.loads).toBe(2);
    expect(after).not.toBe(before);
    expect(after.state.meta.version).toBe(2);
  });

  it('takes only the promotions when nothing else moved: the counts stay, the revision moves so derived views rebuild', async () => {
    const state = await persisted('acme');
    const revision = state.revision;
    await store.markPromoted('acme', 'p1', 'wf_1');
    const entry = await states.forRun('acme');
    expect(store.loads).toBe(1);
    expect(entry.state).toBe(state);
    expect(entry.state.promoted.get('p1')).toBe('wf_1');
    expect(entry.state.meta.promotedRev).toBe(1);
    expect(entry.state.revision).toBe(revision + 1);
  });

  it('loads an evicted tenant again (its memory may have been ahead of the store)', async () => {
    await persisted('acme');
    states.evict('acme');
    expect(states.cached('acme')).toBeUndefined();
    await states.forRead('acme');
    expect(store.loads).toBe(2);
    expect(states.cachedTenants().map((e) => e.state.tenantId)).toEqual(['acme']);
  });
});
