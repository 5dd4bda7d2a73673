/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import OverviewPage from './OverviewPage';

const tally = (total: number, failed: number, avgDurationMs: number | null = 100) => ({ total, successful: total - failed, failed, successRate: total ? (total - failed) / total : null, avgDurationMs });

const hour = (h: number, calls: number, failures: number, sessions = 1) => ({ start: `2026-12-06T${String(h).padStart(2, '0')}:00:00.000Z`, calls, failures, sessions });
const hourly = { bucket: 'hour', from: '2026-12-06T05:00:00.000Z', to: '2026-12-06T08:00:00.000Z', countedFrom: null, buckets: [hour(5, 0, 0, 0), hour(6, 40, 5, 3), hour(7, 10, 0)] };
const daily = { bucket: 'day', from: '2026-12-05T00:00:00.000Z', to: '2026-12-07T00:00:00.000Z', countedFrom: '2026-12-05T12:00:00.000Z', buckets: [{ start: '2026-12-05T00:00:00.000Z', calls: 7, failures: 7, sessions: 2 }, { start: '2026-12-06T00:00:00.000Z', calls: 50, failures: 4, sessions: 4 }] };

const answers: Record<string, unknown> = {
  'GET /api/v1/stats/timeline': hourly,
  'GET /api/v1/stats/queues': { queues: [{ name: 'steps', counts: { waiting: 7, prioritized: 0, active: 2, delayed: 1, 'waiting-children': 0, failed: 3, completed: 40, paused: 0 } }] },
  'GET /api/v1/stats': {
    overall: tally(200, 20),
    last24h: tally(40, 2),
    byTool: [
      { tool: 'git.clone', ...tally(120, 0, 900) },
      { tool: 'npm.test', ...tally(60, 13, 4200) },
      { tool: 'slack.send', ...tally(20, 7, 50) },
    ],
    byIntent: [{ intent: 'fix the build', ...tally(90, 18) }],
  },
  'GET /api/v1/sessions/recent': {
    items: [{ sessionId: 's-42', intent: 'fix the build', success: false, ended: true, events: 4, toolCalls: 3, failedCalls: 1, tools: ['git.clone', 'npm.test'], firstStartedAt: '2026-12-06T06:00:00.000Z', lastStartedAt: '2026-12-06T06:01:00.000Z' }],
    nextCursor: null,
  },
  'GET /api/v1/stats/health': {
    totals: { total: 200, successful: 180, failed: 20, successRate: 0.9, meanDurationMs: 100, sessions: 50, events: 200, patterns: 7, promoted: 2, intents: 3, openSessions: 1 },
    last24h: { total: 40, successful: 36, failed: 4, successRate: 0.9, meanDurationMs: 100, sessions: 10 },
    topCandidates: [{ patternId: 'p1', tools: ['git.clone', 'npm.test'], score: 30, confidence: 0.8, support: 33, successRate: 0.91 }],
    lastRun: { id: 'r1', mode: 'incremental', trigger: 'schedule', status: 'completed', startedAt: '2026-12-06T06:30:00.000Z', endedAt: '2026-12-06T06:30:01.000Z', durationMs: 1200, eventsRead: 321 },
    watermark: 10,
  },
  'GET /health': [503, { statusCode: 503, error: 'Service Unavailable', message: 'gateway is not ready: redis down', details: { status: 'error', info: { nats: { status: 'up', latencyMs: 3 } }, error: { redis: { status: 'down', message: 'connection refused' } }, details: { nats: { status: 'up', latencyMs: 3 }, redis: { status: 'down', message: 'connection refused' } } } }],
};

describe('OverviewPage', () => {
  it('shows totals, the failing tools with their failure counts, sessions, learning and service health', async () => {
    const page = renderPage(<OverviewPage />, { answers });
    expect(screen.getByRole('heading', { level: 1, name: 'Overview' })).toBeTruthy();
    const failing = await screen.findByRole('table', { name: 'Failing tools' });
    const rows = within(failing).getAllByRole('row').slice(1).map((r) => r.textContent);
    // Most failures first; a tool that never failed is not listed.
    expect(rows).toEqual(['npm.test136078.3 %', 'slack.send72065 %']);
    expect(screen.getByText('200')).toBeTruthy();
    expect(screen.getByText('90 %')).toBeTruthy();
    const slowest = screen.getByRole('region', { name: 'Slowest tools' });
    expect(within(slowest).getAllByRole('row')[1].textContent).toBe('npm.test4.2 s');
    expect(await screen.findByText('s-42')).toBeTruthy();
    expect(screen.getByText('3 (1 failed)')).toBeTruthy();
    expect(await screen.findByText(/completed \(incremental, schedule\).*321 events read/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'git.clone → npm.test' }).getAttribute('href')).toBe('/patterns/p1');
    // The 503 still names the dependency that is down and why.
    expect(await screen.findByText('gateway is not ready: redis down')).toBeTruthy();
    expect(screen.getByText('connection refused')).toBeTruthy();
    expect((await screen.findByRole('link', { name: 'queue dashboard' })).getAttribute('href')).toBe('/queues');
    const queues = within(screen.getByRole('table', { name: 'Jobs per queue and state' }));
    expect(Array.from(queues.getAllByRole('row')[1].querySelectorAll('td')).map((td) => td.textContent)).toEqual(['steps', '7', '0', '2', '1', '3', '40']);
    expect(page.requests.map((r) => r.url)).toContain('/api/v1/sessions/recent?limit=10');
  });

  it('charts the calls per hour with a description and a table, and switches to days', async () => {
    const mine = { ...answers };
    const view = renderPage(<OverviewPage />, { answers: mine });
    const chart = await screen.findByRole('img', { name: /^Tool calls per hour over 3 hours: 50 calls, 5 failed \(90 % succeeded\); busiest .* with 40\.$/ });
    // Stacked bars: the hour with failures has a succeeded and a failed part; the empty hour none.
    expect(chart.querySelectorAll('rect')).toHaveLength(3);
    const table = screen.getByRole('table', { name: 'Tool calls per hour', hidden: true });
    const rows = within(table).getAllByRole('row', { hidden: true }).slice(1).map((r) => Array.from(r.querySelectorAll('td')).slice(1).map((td) => td.textContent));
    expect(rows).toEqual([
      ['0', '0', '–', '0'],
      ['40', '5', '87.5 %', '3'],
      ['10', '0', '100 %', '1'],
    ]);
    expect(view.requests.map((r) => r.url)).toContain('/api/v1/stats/timeline?bucket=hour');

    mine['GET /api/v1/stats/timeline'] = daily;
    fireEvent.click(screen.getByRole('radio', { name: 'Per day, last 30 days' }));
    expect(await screen.findByRole('img', { name: /^Tool calls per day over 2 days: 57 calls, 11 failed/ })).toBeTruthy();
    expect(view.requests.map((r) => r.url)).toContain('/api/v1/stats/timeline?bucket=day');
    // Past the server's reading bound, the older bars are said to be partial.
    expect(screen.getByText(/Only the newest events were counted/)).toBeTruthy();
  });

  it('says so when the statistics cannot be read', async () => {
    renderPage(<OverviewPage />, { answers: { ...answers, 'GET /api/v1/stats': [500, { statusCode: 500, message: 'event store down' }] } });
    expect((await screen.findByText('event store down')).closest('[role="alert"]')).toBeTruthy();
  });
});
