/**
 * `npm run chaos`: fault drills against a system of its own (private NATS, Redis, PostgreSQL and
 * FerretDB on loopback, every app its own process from dist). Progress on stderr, the table on
 * stdout; exit 1 when a drill did not reach its figures. See docs/RELIABILITY.md.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { DrillRow } from './drill';
import { DRILLS, FAST_SCALE, selectDrills } from './registry';
import { runDrills } from './runner';
import { formatTable } from './table';

function usage(): string {
  const width = Math.max(...DRILLS.map((d) => d.name.length));
  return [
    'usage: npm run chaos -- [--fast] [--only NAME,NAME] [--json FILE] [--drill-timeout S]',
    '',
    'Starts its own NATS (JetStream), Redis, PostgreSQL and FerretDB on free loopback ports (data in',
    'a temporary directory; the shared servers are never touched), then gateway, recorder, analyzer',
    'and executor as separate processes from dist, and runs each drill against them. Prints the',
    'table (drill | sent | stored/completed | lost | duplicated | stuck | recover ms | 5xx | ok);',
    'exits 1 when a drill is not ok. Details: docs/RELIABILITY.md.',
    '',
    'options:',
    '  --fast             the drills CI runs (marked *), at a tenth of the documented load',
    '  --only A,B         only these drills (any of the list below)',
    '  --scale X          load factor (default 1, or 0.1 with --fast)',
    '  --drill-timeout S  bound of each drill in seconds (default 300, or 60 with --fast)',
    '  --json FILE        also write the rows as JSON to FILE',
    '  --help             this text',
    '',
    'drills (* = --fast):',
    ...DRILLS.map((d) => `  ${d.fast ? '*' : ' '} ${d.name.padEnd(width)}  ${d.summary}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      fast: { type: 'boolean', default: false },
      only: { type: 'string' },
      scale: { type: 'string' },
      'drill-timeout': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const drills = selectDrills(values.fast, values.only);
  const scale = values.scale !== undefined ? Number(values.scale) : values.fast ? FAST_SCALE : 1;
  const timeoutS = values['drill-timeout'] !== undefined ? Number(values['drill-timeout']) : values.fast ? 60 : 300;
  if (!(scale > 0 && scale <= 10)) throw new Error('--scale must be in (0, 10]');
  if (!(timeoutS >= 10 && timeoutS <= 3600)) throw new Error('--drill-timeout must be 10..3600 seconds');
  const log = (m: string) => process.stderr.write(`chaos ${new Date().toISOString().slice(11, 19)} ${m}\n`);
  log(`${drills.length} drill(s) at scale ${scale}: ${drills.map((d) => d.name).join(', ')}`);
  const started = Date.now();
  const rows: DrillRow[] = await runDrills(drills, { scale, drillTimeoutMs: timeoutS * 1000, log });
  process.stdout.write(`${formatTable(rows)}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${rows.filter((r) => r.ok).length} of ${rows.length} ok`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ at: new Date().toISOString(), scale, rows }, null, 2)}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

if (require.main === module) {
  // ^C still stops what the stack started (its exit hook kills the apps; infra.sh pid files let
  // `scripts/infra.sh stop` with the printed data dir stop the servers).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  // `npm run chaos -- --help | head`: a reader that goes away is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
