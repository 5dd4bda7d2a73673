import type { components } from '@toolpath/api-client';

export type ToolEvent = components['schemas']['ToolEvent'];
export type ToolCall = Extract<ToolEvent, { kind: 'tool_call' }>;

/** An event's start in epoch ms: the API gives ISO-8601 text or epoch ms, as it was recorded. */
export const startMs = (e: { startedAt: string | number }): number => (typeof e.startedAt === 'number' ? e.startedAt : Date.parse(e.startedAt));

export interface TimelineRow {
  call: ToolCall;
  /** Its place in the session (1-based), as the accordion below numbers it. */
  n: number;
  /** Offsets from the session's first start, in ms. */
  from: number;
  to: number;
  /** Bar position on the shared axis, in percent of the span. */
  left: number;
  width: number;
}

/**
 * The session's tool calls on one time axis: t0 is the earliest start, the span reaches the
 * latest end (start + durationMs). Calls keep the API's order (seq, then startedAt); a call with an
 * unreadable start sits at t0 rather than disappearing.
 */
export function layoutCalls(events: readonly ToolEvent[]): { span: number; rows: TimelineRow[] } {
  const calls = events.filter((e): e is ToolCall => e.kind === 'tool_call');
  if (calls.length === 0) return { span: 0, rows: [] };
  const starts = calls.map(startMs);
  const known = starts.filter(Number.isFinite);
  // reduce, not Math.min(...): a long session would overflow the argument list.
  const t0 = known.length ? known.reduce((a, b) => Math.min(a, b)) : 0;
  const froms = starts.map((s) => (Number.isFinite(s) ? s - t0 : 0));
  const tos = calls.map((c, i) => froms[i] + Math.max(0, c.durationMs || 0));
  // At least 1 ms, so a session of instantaneous calls still divides.
  const span = tos.reduce((a, b) => Math.max(a, b), 1);
  const rows = calls.map((call, i) => ({ call, n: i + 1, from: froms[i], to: tos[i], left: (froms[i] / span) * 100, width: ((tos[i] - froms[i]) / span) * 100 }));
  return { span, rows };
}

/** Axis ticks: the start, quarters and the end of the span, in ms from t0. */
export const ticks = (span: number): number[] => [0, 0.25, 0.5, 0.75, 1].map((f) => f * span);
