import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot } from './processes';
import { waitFor } from './isolation';

const run = promisify(execFile);
const INFRA = join(repoRoot, 'scripts', 'infra.sh');

export type InfraService = 'nats' | 'redis' | 'postgres' | 'ferretdb';

/** Start order; stopping goes backwards. */
const ORDER: InfraService[] = ['nats', 'redis', 'postgres', 'ferretdb'];

export interface PrivateInfra {
  natsUrl: string;
  redisUrl: string;
  mongoUrl: string;
  postgresUrl: string;
  /** The settings scripts/infra.sh runs with for this instance (its data dir and ports). */
  env: Record<string, string>;
  /** `scripts/infra.sh start <svc...>` (all when none is named): what already runs is left as is. */
  start(...services: InfraService[]): Promise<void>;
  /** `scripts/infra.sh stop <svc...>`: a graceful stop (PostgreSQL: its fast shutdown). */
  stop(...services: InfraService[]): Promise<void>;
  /** SIGKILL to the server's whole process group (PostgreSQL's backends too), as in a crash. */
  kill9(service: InfraService): Promise<void>;
  /** The pid scripts/infra.sh recorded, when the server runs. */
  pid(service: InfraService): number | undefined;
  /** Stops everything and removes the data directories. */
  dispose(): Promise<void>;
}

/**
 * NATS (JetStream), Redis, PostgreSQL and FerretDB of a caller's own, started by scripts/infra.sh
 * on free loopback ports with a data directory of their own: for drills that kill or stop servers
 * without touching the shared ones.
 */
export async function privateInfra(label = 'infra'): Promise<PrivateInfra> {
  const dir = mkdtempSync(join(tmpdir(), `tp-${label}-`));
  // Run as root, PostgreSQL runs as the postgres user and must reach its cluster inside.
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'infra');
  const [nats, natsMonitor, redis, pg, mongo] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const env: Record<string, string> = {
    TOOLPATH_DATA_DIR: dataDir,
    NATS_URL: `nats://127.0.0.1:${nats}`,
    NATS_MONITOR_PORT: String(natsMonitor),
    REDIS_URL: `redis://127.0.0.1:${redis}`,
    FERRETDB_HANDLER: 'postgresql',
    FERRETDB_POSTGRESQL_URL: `postgres://toolpath@127.0.0.1:${pg}/ferretdb`,
    MONGO_URL: `mongodb://127.0.0.1:${mongo}`,
  };
  const infra = async (...args: string[]) => {
    try {
      await run('bash', [INFRA, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`scripts/infra.sh ${args.join(' ')} failed: ${e.stderr?.slice(-2000) ?? e.message}`);
    }
  };
  const pid = (service: InfraService): number | undefined => {
    const file = join(dataDir, 'run', `${service}.pid`);
    if (!existsSync(file)) return undefined;
    const n = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(n) && n > 1 && groupAlive(n) ? n : undefined;
  };
  const handle: PrivateInfra = {
    natsUrl: env.NATS_URL,
    redisUrl: env.REDIS_URL,
    mongoUrl: env.MONGO_URL,
    postgresUrl: env.FERRETDB_POSTGRESQL_URL,
    env,
    start: (...services) => infra('start', ...(services.length ? services : ORDER)),
    stop: (...services) => infra('stop', ...(services.length ? services : ORDER)),
    kill9: async (service) => {
      const p = pid(service);
      if (p === undefined) return;
      // infra.sh starts each server with setsid: its pid is the group's id.
      try {
        process.kill(-p, 'SIGKILL');
      } catch {
        process.kill(p, 'SIGKILL');
      }
      await waitFor(() => !groupAlive(p), { timeoutMs: 10_000, what: `${service} processes gone` });
    },
    pid,
    dispose: async () => {
      await handle.stop().catch(() => undefined);
      for (const s of [...ORDER].reverse()) await handle.kill9(s).catch(() => undefined);
      // The cluster lives elsewhere when the postgres user could not reach the data dir.
      const link = join(dataDir, 'postgres');
      if (existsSync(link) && lstatSync(link).isSymbolicLink()) rmSync(readlinkSync(link), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    try {
      process.kill(pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
