/**
 * Runs drills one after the other against one ChaosStack, bringing the stack back to its
 * starting point after each, and returns their rows. Each drill is bounded: past its deadline
 * (plus a grace for its own clean-up) it counts as failed and the next one runs.
 */
import type { Drill, DrillRow } from './drill';
import { crashedRow } from './drills/common';
import { ChaosStack } from './stack';

export interface RunOptions {
  /** 1 = the documented load. */
  scale: number;
  /** Each drill's bound. */
  drillTimeoutMs: number;
  log(message: string): void;
  /** Called with each row as soon as its drill ends. */
  onRow?(row: DrillRow): void;
}

const GRACE_MS = 30_000;

export async function runDrills(drills: Drill[], opts: RunOptions): Promise<DrillRow[]> {
  const rows: DrillRow[] = [];
  const stack = await ChaosStack.start(opts.log);
  try {
    for (const drill of drills) {
      const started = Date.now();
      const deadline = started + opts.drillTimeoutMs;
      opts.log(`---- ${drill.name}: ${drill.summary}`);
      let timer: NodeJS.Timeout | undefined;
      const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running ${GRACE_MS / 1000} s past its ${opts.drillTimeoutMs / 1000} s bound`)), opts.drillTimeoutMs + GRACE_MS);
      });
      let row: DrillRow;
      try {
        row = await Promise.race([drill.run({ target: stack.target, log: opts.log, deadline, scale: opts.scale, control: stack.control }), overdue]);
      } catch (err) {
        row = crashedRow(drill.name, err);
      } finally {
        clearTimeout(timer);
      }
      rows.push(row);
      opts.log(`---- ${drill.name}: ${row.ok ? 'ok' : 'NOT OK'} in ${((Date.now() - started) / 1000).toFixed(1)} s${row.notes.length ? ` (${row.notes.join('; ')})` : ''}`);
      const outputs = row.ok ? '' : stack.outputs();
      if (outputs) opts.log(`last output of the apps:\n${outputs}`);
      opts.onRow?.(row);
      if (drill !== drills[drills.length - 1]) await stack.restore();
    }
  } finally {
    await stack.dispose();
  }
  return rows;
}
