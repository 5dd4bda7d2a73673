/** @jest-environment jest-fixed-jsdom */
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
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
  agents: [],
  firstStartedAt: '2026-12-06T06:00:00.000Z',
  lastStartedAt: '2026-12-06T06:01:00.000Z',
  ...extra,
});
const page = {
  items: [
    summary('s1', 'Deploy the billing service', { agents: ['coder', 'planner'] }),
    summary('s2', 'Triage a flaky test', { success: false, failedCalls: 2 }),
    summary('s3', undefined, { ended: false, success: undefined }),
    summary('s4', 'deploy docs'),
  ],
  nextCursor: null,
};

const bodyRows = () => within(screen.getByRole('table', { name: 'Sessions' })).getAllByRole('row').slice(1);
const searches = (view: { requests: Array<{ url: string }> }) => view.requests.map((r) => r.url).filter((u) => u.startsWith('/api/v1/sessions'));

describe('SessionsPage', () => {
  it('lists the sessions, each linking to its page, with its outcome and agents', async () => {
    const view = renderPage(<SessionsPage />, { answers: { 'GET /api/v1/sessions': page } });
    expect(screen.getByRole('heading', { level: 1, name: 'Sessions' })).toBeTruthy();
    await screen.findByRole('table', { name: 'Sessions' });
    const rows = bodyRows();
    expect(rows).toHaveLength(4);
    expect(within(rows[0]).getByRole('link', { name: 's1' }).getAttribute('href')).toBe('/sessions/s1');
    expect(within(rows[0]).getByText('succeeded')).toBeTruthy();
    expect(within(rows[1]).getByText('✕ failed')).toBeTruthy();
    expect(within(rows[2]).getByText('open')).toBeTruthy();
    expect(rows[0].textContent).toContain('git.clone, npm.install, npm.test');
    expect(rows[0].textContent).toContain('planner');
    expect(screen.getByText('4 sessions, most recently active first.')).toBeTruthy();
    expect(searches(view)).toEqual(['/api/v1/sessions?limit=50']);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('asks the server once typing pauses, with the intent, agent and outcome', async () => {
    jest.useFakeTimers();
    try {
      const view = renderPage(<SessionsPage />, { answers: { 'GET /api/v1/sessions': page } });
      await screen.findByRole('table', { name: 'Sessions' });
      const search = screen.getByRole('textbox', { name: /Search by intent/ });
      for (const typed of ['D', 'De', 'Deploy (v2)*']) fireEvent.change(search, { target: { value: typed } });
      fireEvent.change(screen.getByRole('textbox', { name: /Agent/ }), { target: { value: ' planner ' } });
      act(() => jest.advanceTimersByTime(299));
      expect(searches(view)).toHaveLength(1);
      act(() => jest.advanceTimersByTime(1));
      await waitFor(() => expect(searches(view)).toHaveLength(2));
      // One request for the whole word; the text is sent as typed (trimmed), never as a pattern.
      expect(searches(view)[1]).toBe('/api/v1/sessions?limit=50&intent=Deploy%20(v2)*&agentId=planner');
      fireEvent.change(screen.getByRole('combobox', { name: /Outcome/ }), { target: { value: 'false' } });
      await waitFor(() => expect(searches(view)).toContain('/api/v1/sessions?limit=50&intent=Deploy%20(v2)*&agentId=planner&success=false'));
    } finally {
      jest.useRealTimers();
    }
  });

  it('loads the next page with the cursor until there is none', async () => {
    const answers: Record<string, unknown> = { 'GET /api/v1/sessions': { ...page, nextCursor: '1765000000000~czQ' } };
    const view = renderPage(<SessionsPage />, { answers });
    await screen.findByRole('table', { name: 'Sessions' });
    expect(screen.getByText('4 sessions so far, most recently active first.')).toBeTruthy();
    answers['GET /api/v1/sessions'] = { items: [summary('s5', 'older')], nextCursor: null };
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(bodyRows()).toHaveLength(5));
    expect(searches(view)[1]).toBe('/api/v1/sessions?limit=50&cursor=1765000000000~czQ');
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('says when no session matches the search', async () => {
    const answers: Record<string, unknown> = { 'GET /api/v1/sessions': page };
    renderPage(<SessionsPage />, { answers });
    await screen.findByRole('table', { name: 'Sessions' });
    answers['GET /api/v1/sessions'] = { items: [], nextCursor: null };
    fireEvent.change(screen.getByRole('textbox', { name: /Search by intent/ }), { target: { value: 'nothing like it' } });
    expect(await screen.findByText('No session matches.', {}, { timeout: 3000 })).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows the refusal when the list cannot be read', async () => {
    renderPage(<SessionsPage />, { answers: { 'GET /api/v1/sessions': [400, { statusCode: 400, message: 'intent: Too big' }] } });
    expect((await screen.findByText('intent: Too big')).closest('[role="alert"]')).toBeTruthy();
  });
});
