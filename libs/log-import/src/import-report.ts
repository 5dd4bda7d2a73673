import type { ImportProgress, ImportSummary } from './log-importer';
import type { LogSource } from './log-source';

const n = (value: number): string => Math.round(value).toLocaleString('en-US');

/** One progress line: activities read, published, rate, skipped, and how far into the file. */
export function formatProgress(p: ImportProgress, source: Pick<LogSource, 'bytesRead' | 'totalBytes'>): string {
  const parts = [`${n(p.eventsRead)} read`, `${n(p.published)} published`, `${n(p.rate)}/s`, `${n(p.skipped)} skipped`];
  if (source.totalBytes) parts.push(`${Math.min(100, Math.floor((source.bytesRead() * 100) / source.totalBytes))}% of the file`);
  return `[toolpath-import] ${parts.join(' · ')}`;
}

export interface SummaryContext {
  file: string;
  format: string;
  tenantId: string;
  dryRun: boolean;
  ignoredTransitions: number;
  /** XES traces without any event (no session is made of them). */
  emptyTraces?: number;
}

/** The closing report, one fact per line. */
export function formatSummary(s: ImportSummary, ctx: SummaryContext): string {
  const lines = [
    `${ctx.dryRun ? 'dry run of' : 'imported'} ${ctx.file} (${ctx.format}) for tenant ${ctx.tenantId}${s.limited ? ', stopped at --limit' : ''}${s.interrupted ? ', interrupted' : ''}`,
    `  activities read   ${n(s.eventsRead)}`,
    `  tool calls        ${n(s.toolCalls)}`,
    `  cases             ${n(s.cases)} (${n(s.sessionEnds)} session_end events)`,
  ];
  if (!ctx.dryRun) {
    lines.push(`  published         ${n(s.published)} acknowledged, ${n(s.duplicates)} already stored (imported before), ${n(s.dropped)} lost`);
  }
  lines.push(`  skipped           ${n(s.skipped)}`);
  for (const [reason, count] of Object.entries(s.skippedByReason).sort((a, b) => b[1] - a[1])) {
    lines.push(`    ${reason.padEnd(20)}${n(count)}`);
  }
  if (s.truncated !== undefined) lines.push(`  cut short         ${s.truncated}`);
  if (s.casesLeftOpen) lines.push(`  left open         ${n(s.casesLeftOpen)} case(s) open where reading stopped: no session_end until the whole file is imported`);
  if (ctx.ignoredTransitions > 0) lines.push(`  lifecycle events that are no activity (schedule, suspend, ...): ${n(ctx.ignoredTransitions)}`);
  if (ctx.emptyTraces) lines.push(`  traces without events (no session): ${n(ctx.emptyTraces)}`);
  lines.push(`  duration          ${(s.durationMs / 1000).toFixed(1)} s, ${n(s.eventsPerSecond)} activities/s, peak heap ${n(s.peakHeapBytes / 1048576)} MB`);
  return lines.join('\n');
}
