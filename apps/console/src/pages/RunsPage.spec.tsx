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
const run = (id: string, status: string) => ({ id, workflowId: 'w1', version: 1, status, input: {}, steps: [], startedAt: '2026-12-06T07:00:00Z', endedAt: '2026-12-06T07:00:02Z', durationMs: 2000, parallelSpeedup: 1.5 });

describe('RunsPage', () => {
  it("lists the first workflow's runs a page at a time, each linking to its run", async () => {
    const answers: Record<string, unknown> = { 'GET /api/v1/workflows': workflows, 'GET /api/v1/workflows/w1/executions': { items: [run('r1', 'COMPLETED')], nextCursor: 'next' } };
    const page = renderPage(<RunsPage />, { path: '/runs', answers });
    const link = await screen.findByRole('link', { name: 'r1' });
    expect(link.getAttribute('href')).toBe('/runs/r1');
    expect(screen.getByText('×1.50')).toBeTruthy();
    answers['GET /api/v1/workflows/w1/executions'] = { items: [run('r0', 'FAILED')], nextCursor: null };
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'r0' });
    expect(page.requests.map((r) => r.url)).toEqual(
      expect.arrayContaining(['/api/v1/workflows?limit=50', '/api/v1/workflows/w1/executions?limit=25', '/api/v1/workflows/w1/executions?limit=25&cursor=next']),
    );
  });

  it('asks for the picked workflow and status', async () => {
    const page = renderPage(<RunsPage />, {
      path: '/runs',
      answers: { 'GET /api/v1/workflows': workflows, 'GET /api/v1/workflows/w1/executions': { items: [], nextCursor: null }, 'GET /api/v1/workflows/w2/executions': { items: [], nextCursor: null } },
    });
    await screen.findByText('No run for this workflow.');
    fireEvent.change(screen.getByLabelText('Workflow'), { target: { value: 'w2' } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'FAILED' } });
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContainEqual('/api/v1/workflows/w2/executions?limit=25&status=FAILED'));
    expect(await screen.findByText('No run with status failed for this workflow.')).toBeTruthy();
  });

  it('starts from the workflow named in the address, and searches the picker on the server', async () => {
    const page = renderPage(<RunsPage />, {
      path: '/runs?workflow=w9',
      route: '/runs',
      answers: { 'GET /api/v1/workflows': workflows, 'GET /api/v1/workflows/w9/executions': { items: [run('r9', 'RUNNING')], nextCursor: null } },
    });
    await screen.findByRole('link', { name: 'r9' });
    expect((screen.getByLabelText('Workflow') as HTMLSelectElement).value).toBe('w9');
    fireEvent.change(screen.getByLabelText(/^Find a workflow/), { target: { value: 'rotate' } });
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContainEqual('/api/v1/workflows?limit=50&q=rotate'));
  });
});
