import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeMachine, type MachineInfo } from './machine';

/** A target on a figure: on its ratio to the baseline, or on its value. */
export interface Target {
  on: 'ratio' | 'value';
  op: '>=' | '<=';
  value: number;
}

/** One measured number, beside the baseline measured in the same run. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  /** value / baseline.value */
  ratio?: number;
  target?: Target;
  pass?: boolean;
  note?: string;
}

/** What `--json` writes; `bench/run.sh` merges these into `bench/results/latest.json`. */
export interface BenchResult {
  format: 'toolpath-bench/1';
  bench: string;
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  params: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
  /** Diagnostics that are not figures (CPU share, batch sizes, RSS samples, ...). */
  details: Record<string, unknown>;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  readonly details: Record<string, unknown> = {};
  private readonly startedAt = new Date();

  constructor(
    readonly bench: string,
    readonly params: Record<string, unknown>,
    private machine?: MachineInfo,
  ) {}

  setMachine(m: MachineInfo): void {
    this.machine = m;
  }

  /** Adds a figure; the ratio and the verdict are computed here, never by hand. */
  add(f: Omit<Figure, 'ratio' | 'pass'>): Figure {
    const fig: Figure = { ...f };
    if (f.baseline && f.baseline.value > 0) fig.ratio = f.value / f.baseline.value;
    if (f.target) {
      const x = f.target.on === 'ratio' ? fig.ratio : f.value;
      fig.pass = x === undefined ? false : f.target.op === '>=' ? x >= f.target.value : x <= f.target.value;
    }
    this.figures.push(fig);
    return fig;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  toJson(): BenchResult {
    if (!this.machine) throw new Error('machine info missing');
    return {
      format: 'toolpath-bench/1',
      bench: this.bench,
      startedAt: this.startedAt.toISOString(),
      seconds: Math.round((Date.now() - this.startedAt.getTime()) / 100) / 10,
      machine: this.machine,
      params: this.params,
      figures: this.figures,
      notes: this.notes,
      details: this.details,
    };
  }

  /** The human-readable result: machine line, the figure table, notes. */
  print(): void {
    const out: string[] = ['', `== ${this.bench} ==`];
    if (this.machine) out.push(describeMachine(this.machine));
    out.push(`params: ${Object.entries(this.params).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`, '');
    const rows = [['figure', 'value', 'baseline (same run)', 'ratio', 'target', '']];
    for (const f of this.figures) {
      rows.push([
        f.name,
        `${fmtNumber(f.value)} ${f.unit}`,
        f.baseline ? `${fmtNumber(f.baseline.value)} ${f.baseline.unit} (${f.baseline.name})` : '-',
        f.ratio === undefined ? '-' : `${fmtRatio(f.ratio)}x`,
        f.target ? targetText(f.target, f.unit) : '-',
        f.pass === undefined ? '' : f.pass ? 'met' : 'MISSED',
      ]);
    }
    out.push(table(rows));
    for (const f of this.figures) if (f.note) out.push(`  * ${f.name}: ${f.note}`);
    if (this.notes.length) out.push('', ...this.notes.map((n) => `note: ${n}`));
    console.log(out.join('\n'));
  }

  write(file: string | undefined): void {
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(this.toJson(), null, 2)}\n`);
    console.log(`\nfigures written to ${file}`);
  }
}

export function targetText(t: Target, unit: string): string {
  const op = t.op === '>=' ? '>=' : '<=';
  return t.on === 'ratio' ? `ratio ${op} ${t.value}x` : `${op} ${fmtNumber(t.value)} ${unit}`;
}

export function fmtNumber(n: number): string {
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function fmtRatio(r: number): string {
  return r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (cell ?? '').padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

/** Quantile of already sorted numbers (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
