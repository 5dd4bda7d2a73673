/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import WorkflowsPage from './WorkflowsPage';

const wf = (id: string, name: string) => ({
  id,
  name,
  description: `${name} described`,
  source: 'user',
  category: 'ops',
  tags: ['nightly'],
  steps: [{ id: 'a', tool: 'git.clone', parameters: {} }],
  version: 2,
  createdAt: '2026-12-01T10:00:00Z',
  updatedAt: '2026-12-02T10:00:00Z',
});

describe('WorkflowsPage', () => {
  it('lists the catalog a page at a time, each row linking to its workflow', async () => {
    const answers: Record<string, unknown> = { 'GET /api/v1/workflows': { items: [wf('w1', 'Deploy service')], nextCursor: 'c1' } };
    const page = renderPage(<WorkflowsPage />, { path: '/workflows', answers });
    const link = await screen.findByRole('link', { name: 'Deploy service' });
    expect(link.getAttribute('href')).toBe('/workflows/w1');
    answers['GET /api/v1/workflows'] = { items: [wf('w2', 'Rotate keys')], nextCursor: null };
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'Rotate keys' });
    expect(screen.getByRole('link', { name: 'Deploy service' })).toBeTruthy();
    expect(page.requests.map((r) => r.url)).toContainEqual('/api/v1/workflows?limit=25&cursor=c1');
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull());
  });

  it('sends the filters typed in its labelled inputs', async () => {
    const page = renderPage(<WorkflowsPage />, { path: '/workflows', answers: { 'GET /api/v1/workflows': { items: [], nextCursor: null } } });
    await screen.findByText('No workflow matches.');
    fireEvent.change(screen.getByLabelText(/^Tool/), { target: { value: 'git.clone' } });
    fireEvent.change(screen.getByLabelText('Source'), { target: { value: 'learned' } });
    fireEvent.change(screen.getByLabelText(/^Search/), { target: { value: 'deploy' } });
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContainEqual('/api/v1/workflows?limit=25&q=deploy&source=learned&tool=git.clone'));
  });
});
