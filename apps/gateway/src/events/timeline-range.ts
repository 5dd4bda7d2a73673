import { alignRange, BUCKET_MS, MAX_TIMELINE_BUCKETS, type TimelineBucket } from '@toolpath/event-store';
import { ApiError } from '@toolpath/platform';

/** Buckets shown when `from` is left out: a day of hours, a month of days. */
const DEFAULT_SPAN: Record<TimelineBucket, number> = { hour: 24, day: 30 };

/**
 * The range of a timeline request, widened to whole buckets and bounded: `to` defaults to now,
 * `from` to DEFAULT_SPAN buckets before `to`. A 400 names the field to change.
 */
export function timelineRange(bucket: TimelineBucket, from: number | undefined, to: number | undefined, now: number): { from: number; to: number } {
  const end = to ?? now;
  const start = from ?? end - DEFAULT_SPAN[bucket] * BUCKET_MS[bucket];
  if (end <= start) throw new ApiError(400, 'to: must be after from', [{ field: 'to', message: 'must be after from' }]);
  const range = alignRange(bucket, start, end);
  if (range.count > MAX_TIMELINE_BUCKETS) {
    const message = `the range spans ${range.count} ${bucket} buckets; at most ${MAX_TIMELINE_BUCKETS}: move from closer to to, or use a larger bucket`;
    throw new ApiError(400, `from: ${message}`, [{ field: 'from', message }]);
  }
  return { from: range.from, to: range.to };
}
