import { Table, Text } from '@mantine/core';

export type TimelineBucket = 'hour' | 'day';

export interface TimelinePoint {
  start: string;
  calls: number;
  failures: number;
  sessions: number;
}

/** Blue for calls that succeeded, dark red for failures (Mantine blue-8 and red-9). */
const OK_COLOUR = '#1971c2';
const FAILED_COLOUR = '#c92a2a';

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 44;
/** Room for the last label, centred under the last bar. */
const RIGHT = 36;
const BOTTOM = 22;
const TOP = 8;
/** X-axis labels at most, so they never overlap. */
const LABELS = 8;

/** A bucket's start as people read it: a local hour (with its day when `long`), or the UTC day the API counted. */
export function bucketLabel(start: string, bucket: TimelineBucket, long = false): string {
  const d = new Date(start);
  if (bucket === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  return long ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

const rate = (calls: number, failures: number) => (calls === 0 ? '–' : `${Math.round(((calls - failures) / calls) * 1000) / 10} %`);

/** What the chart shows, in words: its aria-label. */
export function describeTimeline(points: TimelinePoint[], bucket: TimelineBucket): string {
  const calls = points.reduce((n, p) => n + p.calls, 0);
  const failures = points.reduce((n, p) => n + p.failures, 0);
  const busiest = points.reduce<TimelinePoint | undefined>((b, p) => (p.calls > (b?.calls ?? 0) ? p : b), undefined);
  const span = `${points.length} ${bucket === 'hour' ? 'hours' : 'days'}`;
  if (!busiest) return `Tool calls per ${bucket} over ${span}: none.`;
  return `Tool calls per ${bucket} over ${span}: ${calls} calls, ${failures} failed (${rate(calls, failures)} succeeded); busiest ${bucketLabel(busiest.start, bucket, true)} with ${busiest.calls}.`;
}

/**
 * Tool calls per bucket as stacked bars (succeeded below, failed on top), drawn as plain SVG: a
 * chart library would cost more than it draws here. The table below it says the same in numbers
 * for screen readers and for exact values.
 */
export function TimelineChart({ points, bucket }: { points: TimelinePoint[]; bucket: TimelineBucket }) {
  const max = Math.max(1, ...points.map((p) => p.calls));
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = points.length > 0 ? plotW / points.length : plotW;
  const barW = Math.max(1, slot * 0.8);
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const every = Math.max(1, Math.ceil(points.length / LABELS));
  const unit = bucket === 'hour' ? 'Hour' : 'Day (UTC)';

  return (
    <>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={describeTimeline(points, bucket)} style={{ display: 'block', maxHeight: 220 }}>
        <line x1={LEFT} x2={WIDTH - RIGHT} y1={TOP + plotH} y2={TOP + plotH} stroke="#868e96" />
        <text x={LEFT - 6} y={TOP + 10} textAnchor="end" fontSize="12" fill="#495057">
          {max}
        </text>
        <text x={LEFT - 6} y={TOP + plotH} textAnchor="end" fontSize="12" fill="#495057">
          0
        </text>
        {points.map((p, i) => {
          const x = LEFT + i * slot + (slot - barW) / 2;
          const ok = p.calls - p.failures;
          return (
            <g key={p.start}>
              <title>{`${bucketLabel(p.start, bucket, true)}: ${p.calls} calls, ${p.failures} failed, ${p.sessions} sessions`}</title>
              {ok > 0 && <rect x={x} y={y(ok)} width={barW} height={y(0) - y(ok)} fill={OK_COLOUR} />}
              {p.failures > 0 && <rect x={x} y={y(p.calls)} width={barW} height={y(ok) - y(p.calls)} fill={FAILED_COLOUR} />}
              {i % every === 0 && (
                <text x={LEFT + i * slot + slot / 2} y={HEIGHT - 6} textAnchor="middle" fontSize="12" fill="#495057">
                  {bucketLabel(p.start, bucket)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <Text size="sm" c="gray.7">
        <span style={{ color: OK_COLOUR }}>■</span> succeeded <span style={{ color: FAILED_COLOUR }}>■</span> failed
      </Text>
      <details>
        <summary>Show as a table</summary>
        <Table.ScrollContainer minWidth={400}>
          <Table aria-label={`Tool calls per ${bucket}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{unit}</Table.Th>
                <Table.Th>Calls</Table.Th>
                <Table.Th>Failed</Table.Th>
                <Table.Th>Success</Table.Th>
                <Table.Th>Sessions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {points.map((p) => (
                <Table.Tr key={p.start}>
                  <Table.Td>{bucketLabel(p.start, bucket, true)}</Table.Td>
                  <Table.Td>{p.calls}</Table.Td>
                  <Table.Td>{p.failures}</Table.Td>
                  <Table.Td>{rate(p.calls, p.failures)}</Table.Td>
                  <Table.Td>{p.sessions}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </details>
    </>
  );
}
