import { cpus, loadavg, totalmem } from 'node:os';
import type { MachineInfo } from './machine';

/** Machine info for benches that use no server (pure computation in the bench process). */
export function localMachineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    natsServer: 'not used',
    mongoServer: 'not used',
    mongoFlavor: 'not used (in-process computation)',
    loadAvgAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}
