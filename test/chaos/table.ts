/** The drills table, as printed on stdout and written in docs/RELIABILITY.md. */
import type { DrillRow } from './drill';

const HEADERS = ['drill', 'sent', 'stored/completed', 'lost', 'duplicated', 'stuck', 'recover ms', '5xx', 'ok'];

const cell = (v: number | null): string => (v === null ? '-' : String(v));

/** A markdown table, then each drill's notes. */
export function formatTable(rows: DrillRow[]): string {
  const body = rows.map((r) => [r.drill, String(r.sent), cell(r.stored), cell(r.lost), cell(r.duplicated), cell(r.stuck), cell(r.recoverMs), cell(r.errors5xx), r.ok ? 'yes' : 'NO']);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const notes = rows.filter((r) => r.notes.length).flatMap((r) => [`- ${r.drill}: ${r.notes.join('; ')}`]);
  return [line(HEADERS), rule, ...body.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
