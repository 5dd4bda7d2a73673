/** @jest-environment jest-fixed-jsdom */
import { screen, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import OverviewPage from './OverviewPage';

const tally = (total: number, failed: number, avgDurationMs: number | null = 100) => ({ total, successful: total - failed, failed, successRate: total ? (total - failed) / total : null, avgDurationMs });

const answers = {
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
    expect(screen.getByRole('link', { name: 'queue dashboard' }).getAttribute('href')).toBe('/queues');
    expect(page.requests.map((r) => r.url)).toContain('/api/v1/sessions/recent?limit=10');
  });

  it('says so when the statistics cannot be read', async () => {
    renderPage(<OverviewPage />, { answers: { ...answers, 'GET /api/v1/stats': [500, { statusCode: 500, message: 'event store down' }] } });
    expect((await screen.findByText('event store down')).closest('[role="alert"]')).toBeTruthy();
  });
});
