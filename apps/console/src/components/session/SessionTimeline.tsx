import { Text } from '@mantine/core';
import { TONE_COLOURS } from '../graph/tones';
import { formatMs } from '../run/format';
import { layoutCalls, ticks, type ToolEvent } from './timeline';

// Dark text on the light track and bars (14.6:1 on the track); the failed mark 7.8:1 on white.
const TEXT = '#212529';
const FAILED_TEXT = '#a51111';
const LABEL_WIDTH = 180;
const TRAIL_WIDTH = 150;

/**
 * The session's tool calls as a Gantt: one row per call, its bar from its start for its duration
 * on a time axis shared by all rows (ms from the first start). A failed call says "failed" in
 * words and with a ✕ as well as in red, so colour is never the only sign. Each row is a list item
 * whose label speaks the bar.
 */
export function SessionTimeline({ events }: { events: readonly ToolEvent[] }) {
  const { span, rows } = layoutCalls(events);
  if (rows.length === 0) return <Text size="sm">This session has no tool call.</Text>;
  const failed = rows.filter((r) => !r.call.success).length;
  return (
    <figure style={{ margin: 0 }}>
      <div aria-hidden="true" style={row}>
        <span style={{ width: LABEL_WIDTH }} />
        <span style={{ position: 'relative', flex: 1, height: 18, borderBottom: '1px solid #868e96' }}>
          {ticks(span).map((t, i) => (
            <span key={i} style={{ position: 'absolute', left: `${(t / span) * 100}%`, transform: i === 0 ? 'none' : i === 4 ? 'translateX(-100%)' : 'translateX(-50%)', fontSize: 11, color: TEXT, whiteSpace: 'nowrap' }}>
              {formatMs(t)}
            </span>
          ))}
        </span>
        <span style={{ width: TRAIL_WIDTH }} />
      </div>
      <ul aria-label="Tool call timeline" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {rows.map((r) => {
          const ok = r.call.success;
          const colours = TONE_COLOURS[ok ? 'completed' : 'failed'];
          const summary = `${r.n}. ${r.call.tool}: from ${formatMs(r.from)} to ${formatMs(r.to)}, ${formatMs(r.to - r.from)}, ${ok ? 'succeeded' : 'failed'}`;
          return (
            <li key={`${r.n}-${r.call.eventId}`} aria-label={summary} title={summary} data-failed={ok ? undefined : true} style={row}>
              <span style={{ ...label, fontWeight: ok ? 400 : 700 }}>
                {`${r.n}. ${r.call.tool}`}
              </span>
              <span style={{ position: 'relative', flex: 1, height: 20, background: '#f8f9fa' }}>
                <span
                  data-testid="call-bar"
                  style={{
                    position: 'absolute',
                    left: `${r.left}%`,
                    width: `max(3px, ${r.width}%)`,
                    top: 2,
                    bottom: 2,
                    background: colours.background,
                    border: `${ok ? 1 : 2}px ${ok ? 'solid' : 'dashed'} ${colours.border}`,
                    boxSizing: 'border-box',
                    borderRadius: 3,
                  }}
                />
              </span>
              <span style={{ width: TRAIL_WIDTH, fontSize: 12, paddingLeft: 8, color: ok ? TEXT : FAILED_TEXT, fontWeight: ok ? 400 : 700 }}>
                {formatMs(r.to - r.from)}
                {ok ? '' : ' · ✕ failed'}
              </span>
            </li>
          );
        })}
      </ul>
      <figcaption>
        <Text size="sm" mt="xs">
          {`${rows.length} call${rows.length === 1 ? '' : 's'} over ${formatMs(span)}${failed ? `, ${failed} failed (red, dashed, marked ✕)` : ', none failed'}. Times are from the first call's start.`}
        </Text>
      </figcaption>
    </figure>
  );
}

const row = { display: 'flex', alignItems: 'center', gap: 8, padding: '2px 0' } as const;
const label = { width: LABEL_WIDTH, fontSize: 13, color: TEXT, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' } as const;
