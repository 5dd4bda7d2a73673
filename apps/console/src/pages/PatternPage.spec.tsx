/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import PatternPage from './PatternPage';

const workflow = {
  name: 'Clone, lint and test',
  description: 'learned from 40 sessions',
  source: 'learned',
  steps: [
    { id: 'clone', tool: 'git.clone', parameters: { repo: '{{ input.repo }}' } },
    { id: 'lint', tool: 'npm.lint', dependsOn: ['clone'], parameters: { dir: '{{ steps.clone.result.dir }}' } },
    { id: 'test', tool: 'npm.test', dependsOn: ['clone'], parameters: { dir: '{{ steps.clone.result.dir }}' } },
  ],
};
const detail = {
  id: 'p1',
  tools: ['git.clone', 'npm.lint', 'npm.test'],
  support: 40,
  successRate: 0.95,
  meanDurationMs: 3000,
  p95DurationMs: 9000,
  score: 38,
  confidence: 0.83,
  promotedWorkflowId: null,
  workflow,
  bindings: [
    { stepId: 'lint', parameter: 'dir', from: 'steps.clone.result.dir' },
    { stepId: 'test', parameter: 'dir', from: 'steps.clone.result.dir' },
  ],
  parallelGroups: [['clone'], ['lint', 'test']],
  examples: [{ sessionId: 'sess-1', steps: [{ tool: 'git.clone', success: true, durationMs: 1200 }, { tool: 'npm.test', success: false, durationMs: 300 }] }],
  intents: [{ text: 'check the repo', count: 30 }],
};

describe('PatternPage', () => {
  it('shows the learned workflow as a DAG with its data flow and parallel stages, and promotes it', async () => {
    const page = renderPage(<PatternPage />, {
      path: '/patterns/p1',
      route: '/patterns/:id',
      answers: {
        'GET /api/v1/patterns/p1': detail,
        'POST /api/v1/patterns/p1/promote': [201, { patternId: 'p1', created: true, workflow: { ...workflow, id: 'wf-new', version: 1, createdAt: '2026-12-06T06:00:00.000Z', updatedAt: '2026-12-06T06:00:00.000Z' } }],
      },
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Clone, lint and test' })).toBeTruthy();
    expect(page.requests[0].url).toBe('/api/v1/patterns/p1?examples=5');
    const graph = screen.getByRole('group', { name: /Learned workflow of pattern p1/ });
    await waitFor(() => expect(graph.textContent).toContain('npm.lint'));
    expect(within(screen.getByRole('region', { name: 'Parallel groups' })).getByText('lint, test (in parallel)')).toBeTruthy();
    expect(within(screen.getByRole('table', { name: 'Data flow' })).getAllByRole('row')).toHaveLength(3);
    expect(screen.getByText(/npm\.test \(failed, 300 ms\)/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Promote to the catalog' }));
    const link = await screen.findByRole('link', { name: 'Clone, lint and test' });
    expect(link.getAttribute('href')).toBe('/workflows/wf-new');
    expect(screen.getByText('promoted now')).toBeTruthy();
    expect(page.requests.filter((r) => r.method === 'POST').map((r) => r.url)).toEqual(['/api/v1/patterns/p1/promote']);
    expect(screen.queryByRole('button', { name: 'Promote to the catalog' })).toBeNull();
  });

  it('links to the workflow of an already promoted pattern instead of offering to promote', async () => {
    renderPage(<PatternPage />, { path: '/patterns/p1', route: '/patterns/:id', answers: { 'GET /api/v1/patterns/p1': { ...detail, promotedWorkflowId: 'wf-9' } } });
    expect((await screen.findByRole('link', { name: 'wf-9' })).getAttribute('href')).toBe('/workflows/wf-9');
    expect(screen.queryByRole('button', { name: 'Promote to the catalog' })).toBeNull();
  });

  it('shows the refusal of a promotion', async () => {
    renderPage(<PatternPage />, {
      path: '/patterns/p1',
      route: '/patterns/:id',
      answers: { 'GET /api/v1/patterns/p1': detail, 'POST /api/v1/patterns/p1/promote': [409, { statusCode: 409, message: 'the workflow does not validate' }] },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Promote to the catalog' }));
    expect((await screen.findByText('the workflow does not validate')).closest('[role="alert"]')).toBeTruthy();
  });

  it('says when the pattern does not exist', async () => {
    renderPage(<PatternPage />, { path: '/patterns/nope', route: '/patterns/:id' });
    expect((await screen.findByText('not found')).closest('[role="alert"]')).toBeTruthy();
  });
});
