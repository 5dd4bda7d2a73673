import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './isolation';

/** The repository root (this file is libs/testing/src or libs/testing/dist). */
export const repoRoot = resolve(__dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface ServiceProcess {
  name: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process printed, for assertions and failure messages. */
  output(): string;
  /** SIGKILL: the process gets no chance to flush or ack. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for a graceful exit (bounded). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts a built app (`apps/<name>/dist/main.js`) as a real separate process with the given
 * settings and waits until its /health answers 200.
 */
export async function startService(
  name: 'recorder' | 'gateway' | 'analyzer' | 'executor' | 'generator',
  env: Record<string, string>,
  opts: { readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const main = join(repoRoot, 'apps', name, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  const port = await freePort();
  const proc = spawn(process.execPath, [main], {
    cwd: repoRoot,
    env: { ...process.env, ...env, [`${name.toUpperCase()}_PORT`]: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const service: ServiceProcess = {
    name,
    port,
    proc,
    output: () => out,
    kill9: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    stop: async (timeoutMs = 20_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`);
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        return res.status === 200;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 30_000, what: `${name} to be healthy` },
    );
  } catch (err) {
    await service.kill9();
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${out.slice(-4000)}`);
  }
  return service;
}

/** Path of a binary built by scripts/infra.sh (cached outside the clone). */
export function cachedBinary(name: 'ferretdb' | 'nats-server'): string {
  const dir = process.env.TOOLPATH_CACHE_DIR ?? join(homedir(), '.cache', 'toolpath');
  const path = join(dir, 'bin', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/infra.sh start first`);
  return path;
}

export interface FerretDbProcess {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/**
 * A FerretDB of the test's own (its own port and SQLite directory), for tests that stop and
 * restart the database without disturbing anything else.
 */
export async function privateFerretDb(): Promise<FerretDbProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tp-ferret-'));
  let proc: ChildProcess | undefined;
  const handle: FerretDbProcess = {
    url: `mongodb://127.0.0.1:${port}`,
    port,
    start: async () => {
      proc = spawn(cachedBinary('ferretdb'), [`--listen-addr=127.0.0.1:${port}`, '--handler=sqlite', `--sqlite-url=file:${dir}/`, '--log-level=error'], {
        stdio: 'ignore',
      });
      await waitFor(() => canConnect(port), { timeoutMs: 15_000, what: 'private ferretdb' });
    },
    stop: async () => {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
    dispose: async () => {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}
