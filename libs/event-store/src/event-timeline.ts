import type { Collection } from 'mongodb';
import type { StoredToolEvent } from './stored-event';

export type TimelineBucket = 'hour' | 'day';

export const BUCKET_MS: Record<TimelineBucket, number> = { hour: 3_600_000, day: 86_400_000 };
/** Buckets one timeline holds at most (400 hours is 16 days; 400 days more than a year). */
export const MAX_TIMELINE_BUCKETS = 400;
/** Events counted at most for one timeline, newest first; older buckets are then partial. */
export const TIMELINE_SCAN_LIMIT = 200_000;

export interface TimelinePoint {
  /** The bucket's first instant (UTC hour or UTC day). */
  start: Date;
  /** Tool calls that started in it. */
  calls: number;
  /** Of those, the ones that failed. */
  failures: number;
  /** Distinct sessions with an event in it. */
  sessions: number;
}

export interface EventTimeline {
  bucket: TimelineBucket;
  from: Date;
  to: Date;
  /** Oldest first, one per bucket of [from, to), empty ones included. */
  buckets: TimelinePoint[];
  /**
   * Null when every event of the range was counted; else the start time of the oldest event
   * counted (only the newest TIMELINE_SCAN_LIMIT were): buckets before it are partial.
   */
  countedFrom: Date | null;
}

/** [from, to) widened to whole buckets: from down, to up (UTC). */
export function alignRange(bucket: TimelineBucket, fromMs: number, toMs: number): { from: number; to: number; count: number } {
  const size = BUCKET_MS[bucket];
  const from = Math.floor(fromMs / size) * size;
  const to = Math.ceil(toMs / size) * size;
  return { from, to, count: Math.round((to - from) / size) };
}

/**
 * Tool calls, failures and active sessions per hour or day. FerretDB v1 has no date operators in
 * `$group`, so the rows of the range are read newest first (a projection of four fields) and
 * counted here, up to TIMELINE_SCAN_LIMIT of them. The range must already be aligned and bounded.
 */
export async function eventTimeline(
  events: Collection<StoredToolEvent>,
  tenantId: string,
  bucket: TimelineBucket,
  range: { from: number; to: number },
  opts: { maxTimeMS?: number; scanLimit?: number } = {},
): Promise<EventTimeline> {
  const scanLimit = opts.scanLimit ?? TIMELINE_SCAN_LIMIT;
  const size = BUCKET_MS[bucket];
  const count = Math.round((range.to - range.from) / size);
  const points: TimelinePoint[] = Array.from({ length: count }, (_, i) => ({ start: new Date(range.from + i * size), calls: 0, failures: 0, sessions: 0 }));
  const sessions = points.map(() => new Set<string>());
  const rows = events
    .find(
      { tenantId, startedAt: { $gte: new Date(range.from), $lt: new Date(range.to) } },
      { projection: { _id: 0, kind: 1, success: 1, sessionId: 1, startedAt: 1 }, ...(opts.maxTimeMS !== undefined ? { maxTimeMS: opts.maxTimeMS } : {}) },
    )
    .sort({ startedAt: -1 })
    .limit(scanLimit + 1)
    .batchSize(5_000);
  let read = 0;
  let oldest: Date | null = null;
  let truncated = false;
  try {
    for await (const r of rows) {
      if (++read > scanLimit) {
        truncated = true;
        break;
      }
      const i = Math.floor((r.startedAt.getTime() - range.from) / size);
      const point = points[i];
      if (!point) continue;
      oldest = r.startedAt;
      sessions[i].add(r.sessionId);
      if (r.kind === 'session_end') continue;
      point.calls++;
      if (r.success === false) point.failures++;
    }
  } finally {
    await rows.close();
  }
  points.forEach((p, i) => (p.sessions = sessions[i].size));
  return { bucket, from: new Date(range.from), to: new Date(range.to), buckets: points, countedFrom: truncated ? oldest : null };
}
