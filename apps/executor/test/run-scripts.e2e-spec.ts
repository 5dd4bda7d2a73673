import Redis from 'ioredis';
import { testUrls } from '@toolpath/testing';
import { RUN_SCRIPTS } from '../src/runs/run-scripts';

/** Every script as the store sends it (shared parts spliced in) compiles in Redis. */
describe('run scripts in Redis', () => {
  const redis = new Redis(testUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(() => redis.disconnect());

  it.each(RUN_SCRIPTS.map((s) => [s.spec.file, s] as const))('%s compiles', async (_file, script) => {
    const sha = (await redis.script('LOAD', script.lua)) as string;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
  });
});
