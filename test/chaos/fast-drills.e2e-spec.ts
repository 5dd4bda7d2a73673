/**
 * The fast chaos drills on every CI run (`npm run chaos -- --fast` as a test): recorder and
 * executor kill -9, the bad-input corpus and poison messages, against a private NATS, Redis,
 * PostgreSQL and FerretDB and the apps as separate processes from dist (build first: `npx tsc -b
 * tsconfig.build.json`). Every row must be ok; a failing row's notes say which figure it missed.
 */
import type { DrillRow } from './drill';
import { FAST_SCALE, selectDrills } from './registry';
import { runDrills } from './runner';
import { formatTable } from './table';

describe('chaos drills (--fast)', () => {
  it('every fast drill reaches its figures', async () => {
    const drills = selectDrills(true, undefined);
    expect(drills.map((d) => d.name)).toEqual(expect.arrayContaining(['recorder-kill', 'executor-kill', 'bad-input']));
    const lines: string[] = [];
    const rows: DrillRow[] = await runDrills(drills, { scale: FAST_SCALE, drillTimeoutMs: 45_000, log: (m) => lines.push(m) });
    const table = formatTable(rows);
    // Shown in the jest output on success too: the figures of this run.
    console.log(table);
    const failed = rows.filter((r) => !r.ok);
    if (failed.length) throw new Error(`${failed.map((r) => r.drill).join(', ')} not ok\n${table}\n\nprogress:\n${lines.join('\n').slice(-8000)}`);
    expect(rows.map((r) => [r.drill, r.ok])).toEqual(drills.map((d) => [d.name, true]));
  }, 240_000);
});
