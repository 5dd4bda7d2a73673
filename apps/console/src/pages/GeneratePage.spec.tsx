/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { renderPage } from '../test-support/render';
import GeneratePage from './GeneratePage';

const generation = {
  id: 'gen-1',
  workflow: {
    name: 'Release a package',
    description: 'test, then publish and announce',
    steps: [
      { id: 'test', tool: 'npm.test', parameters: { dir: '{{ input.dir }}' } },
      { id: 'publish', tool: 'npm.publish', dependsOn: ['test'], parameters: { dir: '{{ input.dir }}' } },
      { id: 'announce', tool: 'missing:chat.post', dependsOn: ['publish'], parameters: { text: '{{ steps.publish.result.version }}' } },
    ],
  },
  explanation: 'Tests first so that a broken build is never published.',
  toolsUsed: ['npm.test', 'npm.publish'],
  missingTools: [{ name: 'chat.post', reason: 'no tool posts to a chat channel', stepIds: ['announce'] }],
  reusedWorkflows: [{ id: 'wf-ci', name: 'CI check', source: 'user', successRate: 0.9, runs: 12 }],
  warnings: ['maxSteps was reached'],
  offline: false,
  model: 'test-model',
  usage: { promptTokens: 100, completionTokens: 50, totalTokens: 150 },
  rounds: 1,
};

/** Where the page navigated to. */
function Landed() {
  return <p>landed on {useLocation().pathname}</p>;
}

function render(answers: Record<string, unknown>) {
  return renderPage(
    <Routes>
      <Route path="/generate" element={<GeneratePage />} />
      <Route path="*" element={<Landed />} />
    </Routes>,
    { path: '/generate', route: '*', answers },
  );
}

function fill(prompt: string) {
  fireEvent.change(screen.getByLabelText(/^Task/), { target: { value: prompt } });
}

describe('GeneratePage', () => {
  it('sends the prompt with its constraints, shows the draft with its missing tools, and applies it', async () => {
    const page = render({
      'POST /api/v1/workflows/generate': generation,
      'POST /api/v1/workflows/generate/apply': [201, { id: 'wf-new', generationId: 'gen-1', warnings: [] }],
    });
    expect(screen.getByRole('heading', { level: 1, name: 'Generate a workflow' })).toBeTruthy();
    fill('  release the package and tell the team  ');
    fireEvent.click(screen.getByLabelText('Draft offline (no LLM)'));
    fireEvent.change(screen.getByLabelText(/^Max steps/), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText(/^Allowed tools/), { target: { value: 'npm.test, npm.publish,, npm.test ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));

    expect(await screen.findByRole('heading', { level: 2, name: 'Release a package' })).toBeTruthy();
    expect(page.requests).toEqual([
      {
        method: 'POST',
        url: '/api/v1/workflows/generate',
        body: { prompt: 'release the package and tell the team', constraints: { offline: true, maxSteps: 5, tools: ['npm.test', 'npm.publish'] } },
      },
    ]);

    const graph = screen.getByRole('group', { name: /Draft workflow: test, publish, announce/ });
    await waitFor(() => expect(graph.textContent).toContain('missing:chat.post'));
    // The missing tool's step is drawn in the failure tone; the others are not.
    expect(within(graph).getByTitle('failed').textContent).toContain('announce');
    const missing = within(screen.getByRole('table', { name: 'Missing tools' })).getAllByRole('row');
    expect(missing).toHaveLength(2);
    expect(missing[1].textContent).toBe('chat.postno tool posts to a chat channelannounce');
    expect(screen.getByText('Tests first so that a broken build is never published.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'CI check' }).getAttribute('href')).toBe('/workflows/wf-ci');
    expect(screen.getByText('maxSteps was reached')).toBeTruthy();
    expect(screen.getByText('test-model')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect((await screen.findByText(/landed on/)).textContent).toBe('landed on /workflows/wf-new');
    expect(page.requests[1]).toEqual({ method: 'POST', url: '/api/v1/workflows/generate/apply', body: { generationId: 'gen-1' } });
  });

  it('sends no constraints when none is set', async () => {
    const page = render({ 'POST /api/v1/workflows/generate': { ...generation, missingTools: [], reusedWorkflows: [], warnings: [] } });
    expect((screen.getByRole('button', { name: 'Generate' }) as HTMLButtonElement).disabled).toBe(true);
    fill('run the tests');
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByRole('heading', { level: 2, name: 'Release a package' });
    expect(page.requests[0].body).toEqual({ prompt: 'run the tests' });
    expect(screen.queryByRole('table', { name: 'Missing tools' })).toBeNull();
  });

  it("shows the API's message when nothing matches", async () => {
    render({ 'POST /api/v1/workflows/generate': [422, { statusCode: 422, message: 'no registered tool matches "fly to the moon"' }] });
    fill('fly to the moon');
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    const alert = (await screen.findByText('no registered tool matches "fly to the moon"')).closest('[role="alert"]');
    expect(alert?.textContent).toContain('Nothing matches the prompt');
    expect(screen.queryByRole('button', { name: 'Apply' })).toBeNull();
  });

  it('says when the generator timed out', async () => {
    render({ 'POST /api/v1/workflows/generate': [504, { statusCode: 504, message: 'the model did not answer within 60 s' }] });
    fill('anything');
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    const alert = (await screen.findByText('the model did not answer within 60 s')).closest('[role="alert"]');
    expect(alert?.textContent).toContain('The generator did not answer in time');
  });
});
