/**
 * Drill: PostgreSQL (FerretDB's store) killed with SIGKILL while writers insert through FerretDB.
 * Every insert FerretDB acknowledged must be there after PostgreSQL restarts. It runs its own
 * PostgreSQL and FerretDB (scripts/infra.sh with a data dir and ports of its own), never the
 * shared ones. With FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT=off it fails: acknowledged commits
 * still in PostgreSQL's WAL buffers die with its processes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { freePort, repoRoot, waitFor } from '@toolpath/testing';

const INFRA = join(repoRoot, 'scripts', 'infra.sh');
const WRITERS = 4;
const WRITE_BEFORE_KILL_MS = 2_500;
const WRITE_AFTER_RESTART_MS = 1_500;

function infraEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...env };
}

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PostgreSQL kill -9 under FerretDB (durability drill)', () => {
  let dir: string;
  let env: Record<string, string>;
  let mongoUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tp-pgkill-'));
    chmodSync(dir, 0o755); // run as root, PostgreSQL runs as the postgres user and must reach its cluster inside
    const [pgPort, mongoPort] = [await freePort(), await freePort()];
    mongoUrl = `mongodb://127.0.0.1:${mongoPort}`;
    env = {
      TOOLPATH_DATA_DIR: join(dir, 'infra'),
      FERRETDB_HANDLER: 'postgresql',
      FERRETDB_POSTGRESQL_URL: `postgres://toolpath@127.0.0.1:${pgPort}/ferretdb`,
      MONGO_URL: mongoUrl,
    };
    execFileSync('bash', [INFRA, 'start', 'ferretdb'], { env: infraEnv(env), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  }, 90_000);

  afterAll(() => {
    if (!env) return;
    try {
      execFileSync('bash', [INFRA, 'stop', 'ferretdb', 'postgres'], { env: infraEnv(env), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('keeps every acknowledged insert', async () => {
    const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000, socketTimeoutMS: 10_000, maxPoolSize: WRITERS * 2 });
    await client.connect();
    const coll = client.db('drill').collection<{ _id: string; writer: number; n: number; pad: string }>('docs');
    const acked: string[] = [];
    let ackedAfterRestart = 0;
    let restarted = false;
    let stop = false;
    const hardStop = Date.now() + 25_000; // bounds every writer even if a phase hangs
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; !stop && Date.now() < hardStop; n++) {
        const _id = `w${w}-${n}`;
        try {
          await coll.insertOne({ _id, writer: w, n, pad: 'x'.repeat(200) });
          acked.push(_id);
          if (restarted) ackedAfterRestart++;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    try {
      await new Promise((r) => setTimeout(r, WRITE_BEFORE_KILL_MS));
      const pgid = Number(readFileSync(join(env.TOOLPATH_DATA_DIR, 'run', 'postgres.pid'), 'utf8').split('\n')[0]);
      expect(pgid).toBeGreaterThan(1);
      const ackedBeforeKill = acked.length;
      // The whole process group (postmaster and backends, started with setsid): as in a crash,
      // nothing gets to flush what is still in shared memory.
      process.kill(-pgid, 'SIGKILL');
      await waitFor(() => !processGroupAlive(pgid), { timeoutMs: 10_000, what: 'PostgreSQL processes gone' });
      await promisify(execFile)('bash', [INFRA, 'start', 'postgres'], { env: infraEnv(env), timeout: 30_000 });
      restarted = true;
      await waitFor(() => ackedAfterRestart >= 20, { timeoutMs: 15_000, what: 'inserts acknowledged after the restart' });
      await new Promise((r) => setTimeout(r, WRITE_AFTER_RESTART_MS));
      stop = true;
      await Promise.all(writers);

      expect(ackedBeforeKill).toBeGreaterThan(50);
      const stored = new Set((await coll.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
      const lost = acked.filter((id) => !stored.has(id));
      expect({ acknowledged: acked.length, lost: lost.length, firstLost: lost.slice(0, 5) }).toEqual({
        acknowledged: acked.length,
        lost: 0,
        firstLost: [],
      });
    } finally {
      stop = true;
      await Promise.all(writers);
      await client.close();
    }
  }, 60_000);
});
