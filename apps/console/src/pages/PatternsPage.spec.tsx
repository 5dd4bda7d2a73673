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
    expect(within(within(table).getAllByRole('row')[2]).getByText('no')).toBeTruthy();
    expect(page.requests.map((r) => r.url)).toEqual(['/api/v1/patterns?sort=score&limit=25']);

    fireEvent.change(screen.getByLabelText('Sort by'), { target: { value: 'lastSeen' } });
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContain('/api/v1/patterns?sort=lastSeen&limit=25'));
  });

  it('shows the refusal when the list cannot be read', async () => {
    renderPage(<PatternsPage />, { answers: { 'GET /api/v1/patterns': [400, { statusCode: 400, message: 'sort must be one of score, support' }] } });
    expect((await screen.findByText('sort must be one of score, support')).closest('[role="alert"]')).toBeTruthy();
  });
});
