/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { renderPage } from '../test-support/render';
import WorkflowPage from './WorkflowPage';

const workflow = {
  id: 'w1',
  name: 'Deploy service',
  description: 'Builds and ships',
  source: 'user',
  version: 2,
  createdAt: '2026-12-01T10:00:00Z',
  updatedAt: '2026-12-02T10:00:00Z',
  variables: {
    type: 'object',
    required: ['repo'],
    properties: {
      repo: { type: 'string', title: 'Repository' },
      count: { type: 'integer' },
      dryRun: { type: 'boolean' },
      env: { enum: ['dev', 'prod'] },
      extra: { type: 'object' },
    },
  },
  steps: [
    { id: 'build', tool: 'ci.build', parameters: { repo: '{{ input.repo }}' } },
    { id: 'ship', tool: 'cd.deploy', parameters: { image: '{{ steps.build.result.image }}' }, dependsOn: ['build'] },
  ],
};
const versions = {
  items: [
    { ...workflow, version: 2, description: 'Builds and ships' },
    { ...workflow, version: 1, description: 'Builds only' },
  ],
  nextCursor: null,
};

/** Where the page navigated to. */
function Landed() {
  return <p>landed on {useLocation().pathname}</p>;
}

function render(extra: Record<string, unknown> = {}) {
  return renderPage(
    <Routes>
      <Route path="/workflows/:id" element={<WorkflowPage />} />
      <Route path="*" element={<Landed />} />
    </Routes>,
    {
      path: '/workflows/w1',
      route: '/*',
      answers: {
        'GET /api/v1/workflows/w1': workflow,
        'GET /api/v1/workflows/w1/versions': versions,
        'GET /api/v1/workflows/w1/stats': { workflowId: 'w1', total: 4, byStatus: { COMPLETED: 3, FAILED: 1 }, meanDurationMs: 1500, successRate: 0.75 },
        ...extra,
      },
    },
  );
}

describe('WorkflowPage', () => {
  it('shows the workflow, its DAG and its stats', async () => {
    render();
    expect((await screen.findByRole('heading', { level: 1 })).textContent).toBe('Deploy service');
    expect(screen.getByText('Builds and ships')).toBeTruthy();
    expect(screen.getByText('source: user')).toBeTruthy();
    expect(screen.getByRole('group', { name: /Steps of Deploy service/ })).toBeTruthy();
    expect(await screen.findByText('75 %')).toBeTruthy();
  });

  it('runs with the input typed in the form generated from the variables, then opens the run', async () => {
    const page = render({ 'POST /api/v1/workflows/w1/executions': { executionId: 'r9', status: 'PENDING' } });
    fireEvent.change(await screen.findByLabelText(/Repository/), { target: { value: 'acme/api' } });
    fireEvent.change(screen.getByLabelText('count'), { target: { value: '3' } });
    fireEvent.click(screen.getByLabelText('dryRun'));
    fireEvent.change(screen.getByLabelText('env'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('extra'), { target: { value: '{"a": [1]}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect((await screen.findByText(/landed on/)).textContent).toBe('landed on /runs/r9');
    expect(page.requests).toContainEqual({ method: 'POST', url: '/api/v1/workflows/w1/executions', body: { input: { repo: 'acme/api', count: 3, dryRun: true, env: 'prod', extra: { a: [1] } } } });
  });

  it('refuses to run without a required input or with bad JSON, and sends nothing', async () => {
    const page = render();
    fireEvent.change(await screen.findByLabelText('extra'), { target: { value: '{nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(await screen.findByText('Required')).toBeTruthy();
    expect(screen.getByText('Not valid JSON')).toBeTruthy();
    expect(page.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('validates the definition and lists each error with its step and field', async () => {
    const page = render({ 'POST /api/v1/workflows/validate': { valid: false, errors: [{ stepId: 'ship', field: 'dependsOn', message: 'unknown step', code: 'unknown_dependency' }], levels: [] } });
    fireEvent.click(await screen.findByRole('button', { name: 'Validate' }));
    const list = await screen.findByRole('list', { name: 'Validation errors' });
    expect(list.textContent).toBe('step ship, dependsOn: unknown step');
    const sent = page.requests.find((r) => r.url === '/api/v1/workflows/validate')?.body as Record<string, unknown>;
    expect(sent.steps).toEqual(workflow.steps);
    expect(sent).not.toHaveProperty('version');
  });

  it('copies, then opens the copy', async () => {
    const copy = { ...workflow, id: 'w1-copy', name: 'Deploy service (copy)', version: 1 };
    const page = render({ 'POST /api/v1/workflows/w1/copy': copy, 'GET /api/v1/workflows/w1-copy': copy });
    fireEvent.click(await screen.findByRole('button', { name: 'Copy' }));
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Deploy service (copy)'));
    expect(page.requests).toContainEqual({ method: 'POST', url: '/api/v1/workflows/w1/copy' });
  });

  it('deletes only after the confirmation, then goes back to the catalog', async () => {
    const page = render({ 'DELETE /api/v1/workflows/w1': [204, null] });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    expect(page.requests.some((r) => r.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Yes, delete' }));
    expect((await screen.findByText(/landed on/)).textContent).toBe('landed on /workflows');
    expect(page.requests).toContainEqual({ method: 'DELETE', url: '/api/v1/workflows/w1' });
  });

  it('compares two versions side by side', async () => {
    render();
    const table = await screen.findByRole('table', { name: 'Differences between version 1 and version 2' });
    const changed = [...table.querySelectorAll('tr[data-kind="changed"]')].map((tr) => tr.textContent);
    expect(changed).toEqual([expect.stringContaining('−   "description": "Builds only",')]);
    expect(changed[0]).toContain('+   "description": "Builds and ships",');
    expect(screen.getByText('1 line differs')).toBeTruthy();
  });
});
