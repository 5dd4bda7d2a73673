/**
 * Merges the JSON files the benches wrote into one results file and prints the figures as a
 * markdown table. Used by bench/run.sh:
 *   node bench/dist/summarize.js --out bench/results/latest.json --mode quick a.json b.json ...
 * A bench that failed is listed by name (`--failed name`, repeatable).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fmtNumber, fmtRatio, targetText, type BenchResult, type Figure } from './lib/report';
import type { MachineInfo } from './lib/machine';

interface Row {
  bench: string;
  figure: Figure;
}

/** bench/publish.bench.ts writes its own shape; this maps it onto figures. */
interface PublishBenchJson {
  events: number;
  bare: { eventsPerSec: number; usPerEvent: number };
  sdk: { eventsPerSec: number; callerUsPerEvent: number };
  targets?: { throughputRatio?: number; callerUsPerEvent?: number };
  machine?: Partial<MachineInfo>;
}

function figuresOf(name: string, json: unknown): Figure[] {
  const r = json as Partial<BenchResult>;
  if (r.format === 'toolpath-bench/1' && Array.isArray(r.figures)) return r.figures;
  const p = json as Partial<PublishBenchJson>;
  if (p.bare && p.sdk) {
    const throughput: Figure = {
      name: 'EventPublisher throughput',
      value: p.sdk.eventsPerSec,
      unit: 'events/s',
      baseline: { name: 'bare js.publish loop', value: p.bare.eventsPerSec, unit: 'events/s' },
      ratio: p.sdk.eventsPerSec / p.bare.eventsPerSec,
    };
    if (p.targets?.throughputRatio !== undefined) {
      throughput.target = { on: 'ratio', op: '>=', value: p.targets.throughputRatio };
      throughput.pass = throughput.ratio! >= p.targets.throughputRatio;
    }
    const caller: Figure = {
      name: 'publish() caller cost',
      value: p.sdk.callerUsPerEvent,
      unit: 'us/event',
      baseline: { name: 'bare loop wall time per event', value: p.bare.usPerEvent, unit: 'us/event' },
      ratio: p.sdk.callerUsPerEvent / p.bare.usPerEvent,
    };
    if (p.targets?.callerUsPerEvent !== undefined) {
      caller.target = { on: 'value', op: '<=', value: p.targets.callerUsPerEvent };
      caller.pass = p.sdk.callerUsPerEvent <= p.targets.callerUsPerEvent;
    }
    return [throughput, caller];
  }
  return [{ name: `(unrecognised result format of ${name}; see the JSON)`, value: NaN, unit: '' }];
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function main(): void {
  const args = process.argv.slice(2);
  let out = '';
  let mode = 'quick';
  const files: string[] = [];
  const failed: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = args[++i];
    else if (args[i] === '--mode') mode = args[++i];
    else if (args[i] === '--failed') failed.push(args[++i]);
    else files.push(args[i]);
  }
  if (!out) {
    console.error('usage: summarize --out FILE [--mode quick|full] [--failed NAME ...] RESULT.json ...');
    process.exit(2);
  }

  const results: Array<{ bench: string; result: unknown }> = [];
  const rows: Row[] = [];
  for (const file of files) {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { bench?: string };
    const bench = json.bench ?? file.replace(/^.*\//, '').replace(/\.(json|tmp)$/g, '').replace(/\.json$/, '');
    results.push({ bench, result: json });
    for (const figure of figuresOf(bench, json)) rows.push({ bench, figure });
  }
  const machine = (results.find((r) => (r.result as BenchResult).format === 'toolpath-bench/1')?.result as BenchResult | undefined)?.machine;
  writeFileSync(out, `${JSON.stringify({ format: 'toolpath-bench-summary/1', generatedAt: new Date().toISOString(), mode, machine, failed, results }, null, 2)}\n`);

  const lines: string[] = [];
  lines.push(`## Toolpath benchmarks (${mode}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '');
  if (machine) {
    lines.push(
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; node ${machine.node}; nats-server ${machine.natsServer}; ` +
        `Mongo buildInfo ${machine.mongoServer} (${machine.mongoFlavor}); load average at start ${machine.loadAvgAtStart}.`,
      '',
    );
  }
  lines.push('| bench | figure | value | baseline (same run) | ratio | target | |', '| --- | --- | ---: | --- | ---: | --- | --- |');
  for (const { bench, figure: f } of rows) {
    lines.push(
      `| ${[
        bench,
        f.name,
        Number.isNaN(f.value) ? '-' : `${fmtNumber(f.value)} ${f.unit}`,
        f.baseline ? `${fmtNumber(f.baseline.value)} ${f.baseline.unit} (${f.baseline.name})` : '-',
        f.ratio === undefined ? '-' : `${fmtRatio(f.ratio)}x`,
        f.target ? targetText(f.target, f.unit) : '-',
        f.pass === undefined ? '' : f.pass ? 'met' : '**missed**',
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  for (const name of failed) lines.push(`| ${cell(name)} | **failed**: see its output above | | | | | |`);
  lines.push('', `Full results: ${out}`);
  console.log(lines.join('\n'));
}

main();
