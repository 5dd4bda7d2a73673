/** Every drill `npm run chaos` knows, in the order they run. */
import type { Drill } from './drill';
import { badInputDrill } from './drills/bad-input.drill';
import { connectionsDrill } from './drills/connections.drill';
import { poisonMessageDrill } from './drills/poison-message.drill';
import { executorKillDrill, executorKillOneOfTwoDrill } from './drills/executor-kill';
import { natsDownDrill, natsRestartDrill } from './drills/nats-outage';
import { redisKillDrill, redisStopDrill } from './drills/redis-fault';
import { recorderKillDrill, recorderKillOneOfTwoDrill } from './drills/recorder-kill';
import { ferretdbKillDrill, postgresKillDrill } from './drills/store-kill';

export const DRILLS: Drill[] = [
  recorderKillDrill,
  recorderKillOneOfTwoDrill,
  ferretdbKillDrill,
  postgresKillDrill,
  natsRestartDrill,
  natsDownDrill,
  executorKillDrill,
  executorKillOneOfTwoDrill,
  redisStopDrill,
  redisKillDrill,
  badInputDrill,
  poisonMessageDrill,
  connectionsDrill,
];

/** --fast: the CI subset at a tenth of the documented load (seconds per drill, not minutes). */
export const FAST_SCALE = 0.1;

/** The drills of a run: --only's names (all must exist), else the fast ones or all. */
export function selectDrills(fast: boolean, only: string | undefined): Drill[] {
  if (!only) return fast ? DRILLS.filter((d) => d.fast) : DRILLS;
  const names = only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !DRILLS.some((d) => d.name === n));
  if (unknown.length) throw new Error(`unknown drill(s): ${unknown.join(', ')} (see --help)`);
  return DRILLS.filter((d) => names.includes(d.name));
}
