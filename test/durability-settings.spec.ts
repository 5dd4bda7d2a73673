import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** What docs/INFRASTRUCTURE.md ("Durability") promises rests on these settings. */
describe('durability settings', () => {
  it('docker-compose: the apps write to MongoDB with w=majority and journal=true', () => {
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    const urls = [...compose.matchAll(/^\s*MONGO_URL:\s*"?([^"\n]+)"?\s*$/gm)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      const params = new URL(url).searchParams;
      expect({ url, w: params.get('w'), journal: params.get('journal') }).toEqual({ url, w: 'majority', journal: 'true' });
    }
  });

  it('scripts/infra.sh starts PostgreSQL with synchronous_commit=on unless told otherwise, and refuses other values', () => {
    const script = readFileSync(join(root, 'scripts', 'infra.sh'), 'utf8');
    expect(script).toMatch(/^PG_SYNCHRONOUS_COMMIT=\$\{FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT:-on\}$/m);
    expect(script).toContain('-c synchronous_commit="$PG_SYNCHRONOUS_COMMIT"');
    let refused = '';
    try {
      execFileSync('bash', [join(root, 'scripts', 'infra.sh'), 'status'], {
        env: { ...process.env, FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT: 'sometimes' },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (err) {
      refused = String((err as { stderr?: string }).stderr);
    }
    expect(refused).toContain('FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT must be on or off');
  });
});
