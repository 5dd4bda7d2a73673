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
  /** `ferretdb <version>` when the server is FerretDB, else `mongodb`. */
  mongoFlavor: string;
  /** 1-minute load average when the bench started: above the core count, other work competed. */
  loadAvgAtStart: number;
}

export async function machineInfo(nc: NatsConnection, db: Db): Promise<MachineInfo> {
  const build = (await db.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string };
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    natsServer: nc.info?.version ?? 'unknown',
    mongoServer: build.version ?? 'unknown',
    mongoFlavor:
      build.ferretdbVersion === undefined
        ? 'MongoDB'
        : `FerretDB ${build.ferretdbVersion === 'unknown' ? '(version not reported)' : build.ferretdbVersion}`,
    loadAvgAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; node ${m.node}; ` +
    `nats-server ${m.natsServer}; mongo buildInfo ${m.mongoServer} (${m.mongoFlavor}); load avg at start ${m.loadAvgAtStart}`
  );
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status), or undefined if it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
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

/**
 * Who used the CPU during one phase: each named process's CPU seconds per wall second (1.0 = one
 * full core), the machine's total, and what remains for processes outside the bench.
 */
export class CpuShare {
  private readonly start: Map<string, number | undefined>;
  private readonly machineStart = machineCpuSeconds();
  private readonly t0 = process.hrtime.bigint();

  constructor(private readonly pids: Record<string, number | undefined>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, pid === undefined ? undefined : cpuSeconds(pid)]));
  }

  /** Cores used per process over the phase, plus `machine` (all processes) and `others`. */
  finish(): Record<string, number> {
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.start.get(name);
      const after = pid === undefined ? undefined : cpuSeconds(pid);
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
