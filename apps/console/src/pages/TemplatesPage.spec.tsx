/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { renderPage } from '../test-support/render';
import TemplatesPage from './TemplatesPage';

const template = (id: string, name: string, category: string, requiredVariables: string[] = []) => ({
  id,
  name,
  description: `${name} described`,
  category,
  tags: ['starter'],
  tools: ['http.request'],
  variables: [...requiredVariables, 'timeout'],
  requiredVariables,
  steps: 2,
});

const gallery = {
  items: [template('deploy', 'Deploy a service', 'ops', ['service', 'region']), template('triage', 'Triage an issue', 'support')],
  categories: [
    { category: 'ops', count: 1 },
    { category: 'support', count: 1 },
  ],
  nextCursor: null,
};

/** The page inside routes, so navigating to the new workflow shows where it went. */
const withRoutes = (
  <Routes>
    <Route path="/templates" element={<TemplatesPage />} />
    <Route path="/workflows/:id" element={<p>workflow page</p>} />
  </Routes>
);

/** The first render loads the component library and the page: slower than 1 s on a busy machine. */
const FIRST = { timeout: 5000 };

describe('TemplatesPage', () => {
  it('narrows the cards to the chosen category', async () => {
    renderPage(<TemplatesPage />, { path: '/templates', answers: { 'GET /api/v1/workflows/templates': gallery } });
    await screen.findByRole('heading', { name: 'Deploy a service' }, FIRST);
    expect(screen.getByRole('heading', { name: 'Triage an issue' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Category'), { target: { value: 'support' } });
    expect(screen.queryByRole('heading', { name: 'Deploy a service' })).toBeNull();
    expect(screen.getByRole('heading', { name: 'Triage an issue' })).toBeTruthy();
  });

  it('sends the words searched to the server', async () => {
    const page = renderPage(<TemplatesPage />, { path: '/templates', answers: { 'GET /api/v1/workflows/templates': gallery } });
    await screen.findByRole('heading', { name: 'Deploy a service' }, FIRST);
    fireEvent.change(screen.getByLabelText(/^Search/), { target: { value: 'deploy' } });
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContainEqual('/api/v1/workflows/templates?q=deploy'));
  });

  it('instantiates a template with its required variables and opens the new workflow', async () => {
    const page = renderPage(withRoutes, {
      path: '/templates',
      route: '/*',
      answers: {
        'GET /api/v1/workflows/templates': gallery,
        'POST /api/v1/workflows/templates/deploy/instantiate': [201, { id: 'wf-9', name: 'Deploy a service', steps: [], version: 1 }],
      },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Instantiate Deploy a service' }, FIRST));
    fireEvent.change(screen.getByLabelText(/^service/), { target: { value: 'billing' } });
    fireEvent.change(screen.getByLabelText(/^region/), { target: { value: 'eu-west' } });
    expect(screen.queryByLabelText(/^timeout/)).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Create workflow' }));
    await screen.findByText('workflow page');
    const post = page.requests.find((r) => r.method === 'POST');
    expect(post).toEqual({ method: 'POST', url: '/api/v1/workflows/templates/deploy/instantiate', body: { variables: { service: 'billing', region: 'eu-west' } } });
  });

  it('shows why an instantiation was refused and stays', async () => {
    renderPage(withRoutes, {
      path: '/templates',
      route: '/*',
      answers: {
        'GET /api/v1/workflows/templates': gallery,
        'POST /api/v1/workflows/templates/triage/instantiate': [400, { statusCode: 400, message: 'variables.repo is required' }],
      },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Instantiate Triage an issue' }, FIRST));
    fireEvent.click(screen.getByRole('button', { name: 'Create workflow' }));
    expect((await screen.findByRole('alert')).textContent).toContain('variables.repo is required');
    expect(screen.queryByText('workflow page')).toBeNull();
  });

  it('previews a template as its DAG, read on demand', async () => {
    const page = renderPage(<TemplatesPage />, {
      path: '/templates',
      answers: {
        'GET /api/v1/workflows/templates': gallery,
        'GET /api/v1/workflows/templates/triage': {
          id: 'triage',
          name: 'Triage an issue',
          description: '',
          source: 'template',
          steps: [
            { id: 'fetch', tool: 'github.get_issue', parameters: {} },
            { id: 'label', tool: 'github.add_label', parameters: {}, dependsOn: ['fetch'] },
          ],
          summary: {},
        },
      },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Preview Triage an issue' }, FIRST));
    const graph = await screen.findByRole('group', { name: 'Steps of Triage an issue and their dependencies' });
    await waitFor(() => expect(graph.textContent).toContain('github.add_label'));
    expect(page.requests.filter((r) => r.url === '/api/v1/workflows/templates/deploy')).toHaveLength(0);
  });
});
