import { Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { TONE_COLOURS } from '../graph/LayeredGraph';
import { formatMs } from './format';
import { stepTone, type Run } from './runState';

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

/**
 * The run's steps on a time line, one row each, in start order: a bar from startedAt to endedAt
 * (to now while running), the critical path outlined and marked "critical" (not by colour alone),
 * and the run's parallel speedup. Rows are list items with a spoken summary of their bar.
 */
export function Gantt({ run, critical }: { run: Run; critical: string[] }) {
  const steps = run.steps ?? [];
  // Bars of running steps grow with the clock, not only when an update arrives.
  const ticking = steps.some((s) => s.startedAt && !s.endedAt);
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  const started = steps.filter((s) => s.startedAt);
  const onPath = new Set(critical);
  const starts = [ms(run.startedAt), ...started.map((s) => ms(s.startedAt))].filter(Number.isFinite);
  if (starts.length === 0 || started.length === 0) return <Text size="sm">No step has started yet.</Text>;
  const t0 = Math.min(...starts);
  const endOf = (iso: string | null | undefined) => (Number.isFinite(ms(iso)) ? ms(iso) : now);
  const t1 = Math.max(t0 + 1, endOf(run.endedAt), ...started.map((s) => endOf(s.endedAt)));
  const span = t1 - t0;
  const ordered = [...steps].sort((a, b) => (ms(a.startedAt) || Infinity) - (ms(b.startedAt) || Infinity));

  return (
    <figure style={{ margin: 0 }}>
      <ul aria-label="Step timeline" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {ordered.map((s) => {
          const id = s.id ?? '';
          const isCritical = onPath.has(id);
          if (!s.startedAt) {
            return (
              <li key={id} aria-label={`${id}: not started (${(s.status ?? 'pending').toLowerCase()})`} style={row}>
                <span style={label}>{id}</span>
                <span style={{ fontSize: 12, color: '#495057' }}>{(s.status ?? 'pending').toLowerCase()}</span>
              </li>
            );
          }
          const from = ms(s.startedAt) - t0;
          const to = endOf(s.endedAt) - t0;
          const colours = TONE_COLOURS[stepTone(s.status)];
          const summary = `${id}: from ${formatMs(from)} to ${formatMs(to)}${s.endedAt ? '' : ' (running)'}, ${formatMs(to - from)}${isCritical ? ', on the critical path' : ''}`;
          return (
            <li key={id} aria-label={summary} data-critical={isCritical || undefined} style={row} title={summary}>
              <span style={{ ...label, fontWeight: isCritical ? 700 : 400 }}>{id}</span>
              <span style={{ position: 'relative', flex: 1, height: 20, background: '#f8f9fa' }}>
                <span
                  style={{
                    position: 'absolute',
                    left: `${(from / span) * 100}%`,
                    width: `max(3px, ${((to - from) / span) * 100}%)`,
                    top: 2,
                    bottom: 2,
                    background: colours.background,
                    border: isCritical ? '3px solid #212529' : `1px solid ${colours.border}`,
                    boxSizing: 'border-box',
                    borderRadius: 3,
                  }}
                />
              </span>
              <span style={{ width: 120, fontSize: 12, color: '#212529', paddingLeft: 8 }}>
                {formatMs(to - from)}
                {isCritical ? ' · critical' : ''}
              </span>
            </li>
          );
        })}
      </ul>
      <figcaption>
        <Text size="sm" mt="xs">
          {`Wall time ${formatMs(span)}. `}
          {critical.length > 0 && `Critical path: ${critical.join(' → ')} (outlined). `}
          {run.parallelSpeedup != null && `Parallel speedup ×${run.parallelSpeedup.toFixed(2)}: the steps' durations add up to ${run.parallelSpeedup.toFixed(2)} times the wall time.`}
        </Text>
      </figcaption>
    </figure>
  );
}

const row = { display: 'flex', alignItems: 'center', gap: 8, padding: '2px 0' } as const;
const label = { width: 160, fontSize: 13, color: '#212529', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' } as const;
