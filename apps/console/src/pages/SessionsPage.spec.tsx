/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import SessionsPage from './SessionsPage';

const summary = (sessionId: string, intent: string | undefined, extra: object = {}) => ({
  sessionId,
  ...(intent !== undefined ? { intent } : {}),
  success: true,
  ended: true,
  events: 4,
  toolCalls: 3,
  failedCalls: 0,
  tools: ['git.clone', 'npm.install', 'npm.test'],
  firstStartedAt: '2026-12-06T06:00:00.000Z',
  lastStartedAt: '2026-12-06T06:01:00.000Z',
  ...extra,
});
const page = {
  items: [
    summary('s1', 'Deploy the billing service'),
    summary('s2', 'Triage a flaky test', { success: false, failedCalls: 2 }),
    summary('s3', undefined, { ended: false, success: undefined }),
    summary('s4', 'deploy docs'),
  ],
  nextCursor: null,
};

const bodyRows = () => within(screen.getByRole('table', { name: 'Recent sessions' })).getAllByRole('row').slice(1);

describe('SessionsPage', () => {
  it('lists the recent sessions, each linking to its page, with its outcome', async () => {
    const view = renderPage(<SessionsPage />, { answers: { 'GET /api/v1/sessions/recent': page } });
    expect(screen.getByRole('heading', { level: 1, name: 'Sessions' })).toBeTruthy();
    await screen.findByRole('table', { name: 'Recent sessions' });
    const rows = bodyRows();
    expect(rows).toHaveLength(4);
    expect(within(rows[0]).getByRole('link', { name: 's1' }).getAttribute('href')).toBe('/sessions/s1');
    expect(within(rows[0]).getByText('succeeded')).toBeTruthy();
    expect(within(rows[1]).getByText('✕ failed')).toBeTruthy();
    expect(within(rows[2]).getByText('open')).toBeTruthy();
    expect(rows[0].textContent).toContain('git.clone, npm.install, npm.test');
    expect(view.requests.map((r) => r.url)).toEqual(['/api/v1/sessions/recent?limit=100']);

    fireEvent.change(screen.getByLabelText('Recent sessions to load'), { target: { value: '200' } });
    await waitFor(() => expect(view.requests.map((r) => r.url)).toContain('/api/v1/sessions/recent?limit=200'));
  });

  it('searches the intents of the loaded sessions, ignoring case, and says what it searches', async () => {
    const view = renderPage(<SessionsPage />, { answers: { 'GET /api/v1/sessions/recent': page } });
    await screen.findByRole('table', { name: 'Recent sessions' });
    const search = screen.getByRole('textbox', { name: /Search by intent/ });
    expect(screen.getByText(/Searches the intents of the 4 most recent sessions loaded/)).toBeTruthy();

    fireEvent.change(search, { target: { value: 'DEPLOY' } });
    expect(bodyRows().map((r) => within(r).getByRole('link').textContent)).toEqual(['s1', 's4']);
    expect(screen.getByText('2 of 4 sessions match.')).toBeTruthy();

    fireEvent.change(search, { target: { value: 'flaky' } });
    expect(bodyRows().map((r) => within(r).getByRole('link').textContent)).toEqual(['s2']);

    fireEvent.change(search, { target: { value: 'nothing like it' } });
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByText(/No recent session has an intent containing/)).toBeTruthy();

    fireEvent.change(search, { target: { value: '' } });
    expect(bodyRows()).toHaveLength(4);
    // Client side: typing asked the API for nothing more.
    expect(view.requests).toHaveLength(1);
  });

  it('shows the refusal when the list cannot be read', async () => {
    renderPage(<SessionsPage />, { answers: { 'GET /api/v1/sessions/recent': [400, { statusCode: 400, message: 'limit must be at most 200' }] } });
    expect((await screen.findByText('limit must be at most 200')).closest('[role="alert"]')).toBeTruthy();
  });
});
