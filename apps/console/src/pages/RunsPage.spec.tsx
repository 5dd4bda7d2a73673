/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import RunsPage from './RunsPage';

const workflows = {
  items: [
    { id: 'w1', name: 'Deploy', description: '', source: 'user', steps: [], version: 1, createdAt: '2026-12-01T10:00:00Z', updatedAt: '2026-12-01T10:00:00Z' },
    { id: 'w2', name: 'Rotate keys', description: '', source: 'user', steps: [], version: 1, createdAt: '2026-12-01T10:00:00Z', updatedAt: '2026-12-01T10:00:00Z' },
  ],
  nextCursor: null,
};
const run = (id: string, status: string, workflowId?: string) => ({
  id,
  ...(workflowId ? { workflowId, version: 2 } : {}),
  status,
  input: {},
  steps: [],
  startedAt: '2026-12-06T07:00:00Z',
  endedAt: '2026-12-06T07:00:02Z',
  durationMs: 2000,
  parallelSpeedup: 1.5,
});
const urls = (page: { requests: Array<{ url: string }> }) => page.requests.map((r) => r.url);

describe('RunsPage', () => {
  it('lists every run of the tenant a page at a time, each linking to its run and its workflow', async () => {
    const answers: Record<string, unknown> = {
      'GET /api/v1/workflows': workflows,
      'GET /api/v1/executions': { items: [run('r2', 'RUNNING', 'w1'), run('r1', 'COMPLETED')], nextCursor: '12~cjE' },
    };
    const page = renderPage(<RunsPage />, { path: '/runs', answers });
    const link = await screen.findByRole('link', { name: 'r2' });
    expect(link.getAttribute('href')).toBe('/runs/r2');
    expect(screen.getByRole('link', { name: 'w1 v2' }).getAttribute('href')).toBe('/workflows/w1');
    expect(screen.getByText('inline')).toBeTruthy();
    expect(screen.getAllByText('×1.50')).toHaveLength(2);
    // The next page repeats r1 (it finished between the two reads): it shows once.
    answers['GET /api/v1/executions'] = { items: [run('r1', 'COMPLETED'), run('r0', 'FAILED')], nextCursor: null };
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'r0' });
    expect(screen.getAllByRole('link', { name: 'r1' })).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    expect(urls(page)).toEqual(expect.arrayContaining(['/api/v1/executions?limit=50', '/api/v1/executions?limit=50&cursor=12~cjE']));
  });

  it('asks for the chosen workflow, status and time, and keeps them in the address', async () => {
    const page = renderPage(<RunsPage />, { path: '/runs', answers: { 'GET /api/v1/workflows': workflows, 'GET /api/v1/executions': { items: [], nextCursor: null } } });
    await screen.findByText('No run.');
    fireEvent.change(screen.getByLabelText('Workflow'), { target: { value: 'w2' } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'FAILED' } });
    await waitFor(() => expect(urls(page)).toContainEqual('/api/v1/executions?limit=50&workflowId=w2&status=FAILED'));
    const before = Date.now();
    fireEvent.change(screen.getByLabelText('Ended'), { target: { value: '24h' } });
    const timed = await waitFor(() => {
      const url = urls(page).find((u) => u.includes('from='));
      expect(url).toBeDefined();
      return new URL(url!, 'http://x');
    });
    const from = Number(timed.searchParams.get('from'));
    expect(from).toBeGreaterThanOrEqual(before - 24 * 3600_000);
    expect(from).toBeLessThanOrEqual(Date.now() - 24 * 3600_000);
    expect(await screen.findByText('No run with status failed of this workflow that ended in the last 24 hours.')).toBeTruthy();
  });

  it('starts from the filters and the position named in the address, and offers the newest runs again', async () => {
    const page = renderPage(<RunsPage />, {
      path: '/runs?workflow=w9&status=RUNNING&after=5~cjU',
      route: '/runs',
      answers: { 'GET /api/v1/workflows': workflows, 'GET /api/v1/executions': { items: [run('r4', 'RUNNING', 'w9')], nextCursor: null } },
    });
    await screen.findByRole('link', { name: 'r4' });
    expect((screen.getByLabelText('Workflow') as HTMLSelectElement).value).toBe('w9');
    expect((screen.getByLabelText('Status') as HTMLSelectElement).value).toBe('RUNNING');
    expect(urls(page)).toContainEqual('/api/v1/executions?limit=50&workflowId=w9&status=RUNNING&cursor=5~cjU');
    fireEvent.click(screen.getByRole('button', { name: 'Back to the newest runs' }));
    await waitFor(() => expect(urls(page)).toContainEqual('/api/v1/executions?limit=50&workflowId=w9&status=RUNNING'));
    fireEvent.change(screen.getByLabelText(/^Find a workflow/), { target: { value: 'rotate' } });
    await waitFor(() => expect(urls(page)).toContainEqual('/api/v1/workflows?limit=50&q=rotate'));
  });

  it('keeps at most ten pages on screen: past them, "Older runs" starts a new list where they stopped', async () => {
    let n = 0;
    const answers: Record<string, unknown> = {
      'GET /api/v1/workflows': workflows,
      get 'GET /api/v1/executions'() {
        n++;
        return { items: [run(`r${1000 - n}`, 'COMPLETED')], nextCursor: `${1000 - n}~cg` };
      },
    };
    renderPage(<RunsPage />, { path: '/runs', answers });
    await screen.findByRole('link', { name: 'r999' });
    for (let i = 2; i <= 10; i++) {
      fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
      await screen.findByRole('link', { name: `r${1000 - i}` });
    }
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Older runs' }));
    await screen.findByRole('link', { name: 'r989' });
    expect(screen.queryByRole('link', { name: 'r999' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Back to the newest runs' })).toBeTruthy();
  });

  it('shows what the API answers when it fails', async () => {
    renderPage(<RunsPage />, { path: '/runs', answers: { 'GET /api/v1/workflows': workflows, 'GET /api/v1/executions': [400, { statusCode: 400, message: 'cursor: not a cursor of this API' }] } });
    expect((await screen.findByRole('alert')).textContent).toContain('cursor');
  });
});
