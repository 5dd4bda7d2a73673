/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import PatternsPage from './PatternsPage';

const pattern = (id: string, tools: string[], support: number, promotedWorkflowId: string | null = null) => ({
  id,
  tools,
  support,
  successRate: 0.9,
  meanDurationMs: 800,
  p95DurationMs: 2500,
  score: support * 0.9,
  confidence: 0.75,
  lastSeenAt: '2026-12-06T06:00:00.000Z',
  promotedWorkflowId,
  intents: [
    { text: 'run the tests', count: 30 },
    { text: 'check a branch', count: 8 },
    { text: 'build', count: 2 },
  ],
});

describe('PatternsPage', () => {
  it('lists patterns linking to each, with the promoted workflow, and sorts on the server', async () => {
    const page = renderPage(<PatternsPage />, {
      answers: { 'GET /api/v1/patterns': { items: [pattern('p1', ['git.clone', 'npm.test'], 40, 'wf-9'), pattern('p2', ['jira.get', 'slack.send'], 12)], nextCursor: null } },
    });
    expect(screen.getByRole('heading', { level: 1, name: 'Patterns' })).toBeTruthy();
    const table = await screen.findByRole('table', { name: 'Patterns' });
    const first = within(table).getAllByRole('row')[1];
    expect(within(first).getByRole('link', { name: 'git.clone → npm.test' }).getAttribute('href')).toBe('/patterns/p1');
    expect(within(first).getByRole('link', { name: 'workflow' }).getAttribute('href')).toBe('/workflows/wf-9');
    expect(first.textContent).toContain('4090 %75 %2.5 s');
    expect(first.textContent).toContain('run the tests (30); check a branch (8); +1 more');
    expect(within(within(table).getAllByRole('row')[2]).getByText('no')).toBeTruthy();
    expect(page.requests.map((r) => r.url)).toEqual(['/api/v1/patterns?sort=score&limit=25']);

    fireEvent.change(screen.getByLabelText('Sort by'), { target: { value: 'lastSeen' } });
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContain('/api/v1/patterns?sort=lastSeen&limit=25'));
  });

  it('mines now on request, says what the run found, and reads the patterns again', async () => {
    const run = { id: 'r1', mode: 'incremental', trigger: 'request', status: 'completed', startedAt: '2026-12-06T06:00:00.000Z', endedAt: '2026-12-06T06:00:01.000Z', durationMs: 1000, eventsRead: 400, invalidEvents: 0, alreadyCounted: 0, tenant: { events: 367, sessionsClosed: 70, patterns: 12, patternsChanged: 12 } };
    const page = renderPage(<PatternsPage />, { answers: { 'GET /api/v1/patterns': { items: [], nextCursor: null }, 'POST /api/v1/analyzer/runs': run } });
    await screen.findByText(/No pattern mined yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Mine now' }));
    expect((await screen.findByRole('status')).textContent).toBe('Mined 367 events: 70 sessions closed, 12 patterns (12 changed).');
    expect(page.requests.find((r) => r.method === 'POST')).toMatchObject({ url: '/api/v1/analyzer/runs', body: { waitMs: 30000 } });
    await waitFor(() => expect(page.requests.filter((r) => r.url.startsWith('/api/v1/patterns')).length).toBe(2));
  });

  it('says why the analyzer could not be run', async () => {
    renderPage(<PatternsPage />, { answers: { 'GET /api/v1/patterns': { items: [], nextCursor: null }, 'POST /api/v1/analyzer/runs': [503, { statusCode: 503, message: 'no analyzer answered in time' }] } });
    fireEvent.click(await screen.findByRole('button', { name: 'Mine now' }));
    expect((await screen.findByText('no analyzer answered in time')).closest('[role="alert"]')).toBeTruthy();
  });

  it('shows the refusal when the list cannot be read', async () => {
    renderPage(<PatternsPage />, { answers: { 'GET /api/v1/patterns': [400, { statusCode: 400, message: 'sort must be one of score, support' }] } });
    expect((await screen.findByText('sort must be one of score, support')).closest('[role="alert"]')).toBeTruthy();
  });
});
