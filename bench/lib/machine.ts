import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';

/** Where a figure was measured: every bench prints and stores this beside its numbers. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  natsServer: string;
  /** `buildInfo.version` of the Mongo-wire server (FerretDB answers with the MongoDB version it emulates). */
  mongoServer: string;
  /** `FerretDB (<backend> backend)` or `MongoDB`; the backend is read from the local server's command line. */
  mongoFlavor: string;
  /** 1-minute load average when the bench started: above the core count, other work competed. */
  loadAvgAtStart: number;
}

export async function machineInfo(nc: NatsConnection, db: Db, mongoPort: string): Promise<MachineInfo> {
  const build = (await db.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string };
  const version = build.ferretdbVersion && build.ferretdbVersion !== 'unknown' ? ` ${build.ferretdbVersion}` : '';
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    natsServer: nc.info?.version ?? 'unknown',
    mongoServer: build.version ?? 'unknown',
    mongoFlavor: build.ferretdbVersion === undefined ? 'MongoDB' : `FerretDB${version} (${ferretDbBackend(mongoPort)} backend)`,
    loadAvgAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; node ${m.node}; ` +
    `nats-server ${m.natsServer}; mongo buildInfo ${m.mongoServer} (${m.mongoFlavor}); load avg at start ${m.loadAvgAtStart}`
  );
}

/** The value of `--name value` or `--name=value` in a local process's command line. */
function argOf(pid: number, name: string): string | undefined {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
}

/** `sqlite` or `postgresql`: the --handler of the FerretDB listening on `port`, if it runs here. */
function ferretDbBackend(port: string): string {
  const pid = findServerPid('ferretdb', port);
  if (pid === undefined) return 'unknown';
  return argOf(pid, '--handler') ?? 'default';
}

/**
 * The postmaster of the PostgreSQL cluster behind the FerretDB listening on `port` (from its
 * --postgresql-url), when both run here.
 */
export function ferretDbPostgresPid(port: string): number | undefined {
  const pid = findServerPid('ferretdb', port);
  if (pid === undefined) return undefined;
  const url = argOf(pid, '--postgresql-url');
  const pgPort = url ? /:(\d+)\//.exec(url.replace(/^[a-z]+:\/\/[^@]*@/, ''))?.[1] : undefined;
  return pgPort ? findServerPid('postgres', `port=${pgPort}`) : undefined;
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status), or undefined if it is gone. */
export function rssBytes(pid: number | 'self'): number | undefined {
  return statusBytes(pid, 'VmRSS');
}

/** Peak resident set size of a process in bytes (VmHWM of /proc/<pid>/status), or undefined if it is gone. */
export function peakRssBytes(pid: number | 'self'): number | undefined {
  return statusBytes(pid, 'VmHWM');
}

function statusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14].
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS : undefined;
}

/**
 * CPU seconds of a process and all its children, live and exited: its own time, the time of
 * the children it has reaped (cutime, cstime), and that of its live children. For a PostgreSQL
 * cluster, the postmaster's pid gives the whole cluster.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  let total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const c = statFields(Number(entry));
    if (c && Number(c[1]) === pid) total += (Number(c[11]) + Number(c[12])) / CLOCK_TICKS;
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine so far (from /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/**
 * Pid of a running server, found by its program name and an argument (e.g. its port), for
 * reading its CPU time only. Returns undefined when it is not on this machine or not visible.
 */
export function findServerPid(program: string, argContains: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith(program) && argv.some((a) => a.includes(argContains))) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** What CpuShare reads: a pid (the process alone) or a function returning CPU seconds so far. */
export type CpuSource = number | (() => number | undefined) | undefined;

function readCpu(src: CpuSource): number | undefined {
  if (src === undefined) return undefined;
  return typeof src === 'number' ? cpuSeconds(src) : src();
}

/**
 * Who used the CPU during one phase: each named source's CPU seconds per wall second (1.0 = one
 * full core), the machine's total, and what remains for processes outside the bench.
 */
export class CpuShare {
  private readonly start: Map<string, number | undefined>;
  private readonly machineStart = machineCpuSeconds();
  private readonly t0 = process.hrtime.bigint();

  constructor(private readonly sources: Record<string, CpuSource>) {
    this.start = new Map(Object.entries(sources).map(([name, src]) => [name, readCpu(src)]));
  }

  /** Cores used per source over the phase, plus `machine` (all processes) and `others`. */
  finish(): Record<string, number> {
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const [name, src] of Object.entries(this.sources)) {
      const before = this.start.get(name);
      const after = readCpu(src);
      if (before === undefined || after === undefined) continue;
      out[name] = round2((after - before) / wall);
      ours += out[name];
    }
    const m = machineCpuSeconds();
    out.machine = round2((m.busy - this.machineStart.busy) / wall);
    out.others = round2(Math.max(0, out.machine - ours));
    return out;
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Waits until the whole machine is quiet (under `belowCores` busy over a `windowMs` window), for
 * at most `maxMs`; returns the busy cores of the last window. Alternating measurements call it
 * between phases so one phase's leftovers (a service still writing what the previous phase made)
 * do not land on the next one's figure.
 */
export async function settle(opts: { belowCores?: number; windowMs?: number; maxMs?: number } = {}): Promise<number> {
  const { belowCores = 0.3, windowMs = 100, maxMs = 3000 } = opts;
  const until = Date.now() + maxMs;
  let busy = Infinity;
  do {
    const a = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, windowMs));
    const b = machineCpuSeconds();
    busy = (b.busy - a.busy) / (windowMs / 1000);
  } while (busy >= belowCores && Date.now() < until);
  return busy;
}
