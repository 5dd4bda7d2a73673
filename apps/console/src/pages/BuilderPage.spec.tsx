/** @jest-environment jest-fixed-jsdom */
import { completionStatus, currentCompletions, startCompletion } from '@codemirror/autocomplete';
import { EditorView } from '@codemirror/view';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { renderPage } from '../test-support/render';
import BuilderPage from './BuilderPage';
import GeneratePage from './GeneratePage';

const workflow = {
  id: 'w1',
  name: 'Deploy service',
  description: 'Builds and ships',
  source: 'user',
  version: 2,
  createdAt: '2026-12-01T10:00:00Z',
  updatedAt: '2026-12-02T10:00:00Z',
  variables: { type: 'object', properties: { repo: { type: 'string' }, x: { type: 'integer' } } },
  steps: [
    { id: 'a', tool: 'git.clone', parameters: { repo: '{{input.repo}}' } },
    { id: 'b', tool: 'npm.test', parameters: {}, dependsOn: ['a'] },
  ],
};
const canvas = { workflowId: 'w1', nodes: { a: { x: 10, y: 20 }, b: { x: 320, y: 20 } }, viewport: null, updatedAt: '2026-12-02T10:00:00Z' };
const tools = {
  items: [
    { name: 'http.request', source: 'builtin', description: 'Calls a URL' },
    { name: 'crm.lookup', source: 'nats', provider: { id: 'crm-1', sdk: 'typescript' } },
    { name: 'mcp:files/read', source: 'mcp', server: 'files' },
  ],
  nextCursor: null,
};
const mcps = { items: [{ name: 'files', transport: 'stdio', target: 'node files.js', state: 'connected', toolCount: 1, toolsFetchedAt: null, connectedAt: null, lastError: null, failures: 0 }], nextCursor: null };
const agents = { items: [{ agentId: 'agent-7', events: 4, failed: 0, successRate: 1, tools: [{ tool: 'crm.lookup', count: 4 }] }], nextCursor: null };
const VALID = { valid: true, errors: [], levels: [['a'], ['b']] };

/** Where the page navigated to. */
function Landed() {
  return <p>landed on {useLocation().pathname}</p>;
}

const FIRST = { timeout: 5000 };

function render(extra: Record<string, unknown> = {}, path = '/workflows/w1/edit') {
  return renderPage(
    <Routes>
      <Route path="/workflows/:id/edit" element={<BuilderPage />} />
      <Route path="/builder" element={<BuilderPage />} />
      <Route path="/generate" element={<GeneratePage />} />
      <Route path="/draft" element={<Navigate to="/builder" state={{ draft: { name: 'Drafted', description: 'from a prompt', source: 'generated', steps: [{ id: 'fetch', tool: 'http.request', parameters: {} }] } }} />} />
      <Route path="*" element={<Landed />} />
    </Routes>,
    {
      path,
      route: '/*',
      answers: {
        'GET /api/v1/workflows/w1': workflow,
        'GET /api/v1/workflows/w1/canvas': canvas,
        'GET /api/v1/workflows/resources/tools': tools,
        'GET /api/v1/workflows/resources/mcps': mcps,
        'GET /api/v1/workflows/resources/agents': agents,
        'POST /api/v1/workflows/validate': VALID,
        'PUT /api/v1/workflows/w1': { ...workflow, version: 3 },
        'PUT /api/v1/workflows/w1/canvas': canvas,
        ...extra,
      },
    },
  );
}

const canvasGroup = () => screen.getByRole('group', { name: /^Steps of/ });
const node = (id: string) => canvasGroup().querySelector(`.react-flow__node[data-id="${id}"]`) as HTMLElement | null;
const saveButton = () => screen.getByRole('button', { name: 'Save as new version' }) as HTMLButtonElement;
const select = (id: string) => fireEvent.change(screen.getByLabelText('Selected step'), { target: { value: id } });
/** The CodeMirror view behind a labelled editor. */
const editor = (label: string) => EditorView.findFromDOM(screen.getByRole('textbox', { name: label })) as EditorView;
function sentWorkflow(page: ReturnType<typeof render>) {
  return page.requests.find((r) => r.method === 'PUT' && r.url === '/api/v1/workflows/w1')?.body as { steps: Array<Record<string, unknown>>; expectedVersion?: number; name: string };
}

async function opened() {
  expect((await screen.findByRole('heading', { level: 1 }, FIRST)).textContent).toBe('Edit Deploy service');
  await waitFor(() => expect(node('b')).toBeTruthy());
}

describe('BuilderPage', () => {
  it('draws the steps at their stored positions, one node each, and the palette of tools', async () => {
    render();
    await opened();
    expect(node('a')?.textContent).toContain('git.clone');
    expect(node('b')?.style.transform).toContain('translate(320px,20px)');
    expect(screen.getAllByRole('heading', { level: 1 })).toHaveLength(1);
    expect(await screen.findByRole('button', { name: 'Add http.request' })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'MCP: files' }).textContent).toContain('mcp:files/read');
    expect(screen.getByRole('button', { name: 'Add crm.lookup (as agent agent-7 calls it)' })).toBeTruthy();
    // Nothing edited yet: Save says why it is disabled.
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Nothing has changed since the last save.'));
    expect(saveButton().disabled).toBe(true);
  });

  it('adds a step from the palette with a unique id, connects it, and saves the definition then the positions', async () => {
    const page = render();
    await opened();
    fireEvent.click(await screen.findByRole('button', { name: 'Add http.request' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add http.request' }));
    await waitFor(() => expect(node('http-request-2')).toBeTruthy());
    expect(screen.getByRole('heading', { name: 'Step http-request-2' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Add a dependency'), { target: { value: 'b' } });
    expect(within(screen.getByRole('list', { name: 'Depends on' })).getByText('b')).toBeTruthy();

    await waitFor(() => expect(saveButton().disabled).toBe(false));
    fireEvent.click(saveButton());
    expect(await screen.findByText('Saved as version 3')).toBeTruthy();
    const puts = page.requests.filter((r) => r.method === 'PUT').map((r) => r.url);
    expect(puts).toEqual(['/api/v1/workflows/w1', '/api/v1/workflows/w1/canvas']);
    const sent = sentWorkflow(page);
    expect(sent.expectedVersion).toBe(2);
    expect(sent.steps.map((s) => s.id)).toEqual(['a', 'b', 'http-request', 'http-request-2']);
    expect(sent.steps[3]).toEqual({ id: 'http-request-2', tool: 'http.request', parameters: {}, dependsOn: ['b'] });
    expect(sent).not.toHaveProperty('version');
    const positions = (page.requests.find((r) => r.url === '/api/v1/workflows/w1/canvas' && r.method === 'PUT')?.body as { nodes: Record<string, { x: number; y: number }> }).nodes;
    expect(Object.keys(positions).sort()).toEqual(['a', 'b', 'http-request', 'http-request-2']);
    expect(positions.a).toEqual({ x: 10, y: 20 });
    // The new version is the one the next save expects.
    expect(screen.getByText(/^Version 3/)).toBeTruthy();
  });

  it('disconnects a dependency and deletes a step with the Delete key, and every dependency on it', async () => {
    const page = render();
    await opened();
    select('b');
    fireEvent.click(await screen.findByRole('button', { name: 'Remove dependency on a' }));
    expect(screen.getByText('nothing: it starts with the run')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Add a dependency'), { target: { value: 'a' } });

    select('a');
    fireEvent.keyDown(node('a') as HTMLElement, { key: 'Delete', code: 'Delete' });
    await waitFor(() => expect(node('a')).toBeNull());
    expect(node('b')).toBeTruthy();

    await waitFor(() => expect(saveButton().disabled).toBe(false));
    fireEvent.click(saveButton());
    await screen.findByText('Saved as version 3');
    expect(sentWorkflow(page).steps).toEqual([{ id: 'b', tool: 'npm.test', parameters: {} }]);
  });

  it('edits the parameters as JSON; text that is not a JSON object blocks Save and is pinned on the step', async () => {
    const page = render();
    await opened();
    select('b');
    const view = editor('Parameters of b');
    act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: '{ "dir": ' } }));
    expect((await screen.findByText(/^Not valid JSON/)).getAttribute('role')).toBe('alert');
    expect(within(node('b') as HTMLElement).getByRole('img', { name: '1 error' })).toBeTruthy();
    expect(screen.getByRole('status').textContent).toBe('The parameters of b are not a JSON object yet.');
    expect(saveButton().disabled).toBe(true);

    act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: '{ "dir": "{{steps.a.result.dir}}" }' } }));
    await waitFor(() => expect(saveButton().disabled).toBe(false));
    expect(within(node('b') as HTMLElement).queryByRole('img')).toBeNull();
    fireEvent.change(screen.getByLabelText('Timeout (ms)'), { target: { value: '5000' } });
    fireEvent.change(screen.getByLabelText('Attempts in all'), { target: { value: '3' } });
    fireEvent.change(screen.getByLabelText('On failure'), { target: { value: 'continue' } });
    fireEvent.change(screen.getByLabelText('Condition'), { target: { value: 'steps.a.status == "completed"' } });
    await waitFor(() => expect(saveButton().disabled).toBe(false));
    fireEvent.click(saveButton());
    await screen.findByText('Saved as version 3');
    expect(sentWorkflow(page).steps[1]).toEqual({
      id: 'b',
      tool: 'npm.test',
      parameters: { dir: '{{steps.a.result.dir}}' },
      dependsOn: ['a'],
      timeoutMs: 5000,
      retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 1000 } },
      onFailure: 'continue',
      condition: 'steps.a.status == "completed"',
    });
  });

  it('pins validation errors on their node and in the panel, and never saves a definition with errors', async () => {
    const page = render({
      'POST /api/v1/workflows/validate': { valid: false, errors: [{ stepId: 'b', field: 'steps[1].parameters.dir', message: 'step "b": unknown template name "inptu"', code: 'unknown_template_name' }], levels: [] },
    });
    await opened();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Deploy service, edited' } });
    const badge = await within(node('b') as HTMLElement).findByRole('img', { name: '1 error' });
    expect(badge.textContent).toBe('1');
    expect(within(node('a') as HTMLElement).queryByRole('img')).toBeNull();
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('1 error to fix first.'));
    expect(saveButton().disabled).toBe(true);
    select('b');
    expect(screen.getByRole('list', { name: 'Errors of b' }).textContent).toBe('steps[1].parameters.dir: step "b": unknown template name "inptu"');
    fireEvent.click(saveButton());
    expect(page.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('shows a refusal of the gateway on the node it names', async () => {
    render({ 'PUT /api/v1/workflows/w1': [400, { statusCode: 400, error: 'Bad Request', message: 'invalid workflow definition: unknown tool', details: [{ stepId: 'a', field: 'steps[0].tool', message: 'unknown tool "git.clone"' }] }] });
    await opened();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Deploy service 2' } });
    await waitFor(() => expect(saveButton().disabled).toBe(false));
    fireEvent.click(saveButton());
    expect((await screen.findByRole('alert', { name: /Not saved/ })).textContent).toContain('invalid workflow definition: unknown tool');
    expect(await within(node('a') as HTMLElement).findByRole('img', { name: '1 error' })).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Errors of a' }).textContent).toBe('steps[0].tool: unknown tool "git.clone"');
  });

  it('completes {{input.…}} from the variables and {{steps.<id>.result}} from the steps upstream only', async () => {
    render();
    await opened();
    select('b');
    const view = editor('Parameters of b');
    const offered = async (text: string) => {
      act(() => {
        view.focus();
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: text.length - 2 } });
        startCompletion(view);
      });
      await waitFor(() => expect(completionStatus(view.state)).toBe('active'));
      return currentCompletions(view.state).map((c) => c.label);
    };
    const labels = await offered('{"repo": "{{"}');
    expect(labels).toEqual(expect.arrayContaining(['{{input.repo}}', '{{input.x}}', '{{steps.a.result}}']));
    expect(labels).not.toContain('{{steps.b.result}}');

    select('a');
    const first = editor('Parameters of a');
    act(() => {
      first.dispatch({ selection: { anchor: first.state.doc.toString().indexOf('{{') + 2 } });
      startCompletion(first);
    });
    await waitFor(() => expect(completionStatus(first.state)).toBe('active'));
    expect(currentCompletions(first.state).some((c) => c.label.startsWith('{{steps.'))).toBe(false);
  });

  it('saves a draft from Generate as a new workflow, then its positions, then opens it', async () => {
    const stored = { ...workflow, id: 'w9', name: 'Drafted', source: 'generated', version: 1, steps: [{ id: 'fetch', tool: 'http.request', parameters: {} }] };
    const page = render({ 'POST /api/v1/workflows': [201, stored], 'PUT /api/v1/workflows/w9/canvas': { ...canvas, workflowId: 'w9' } }, '/draft');
    expect((await screen.findByRole('heading', { level: 1 }, FIRST)).textContent).toBe('New workflow');
    await waitFor(() => expect(node('fetch')).toBeTruthy());
    const save = screen.getByRole('button', { name: 'Save to the catalog' }) as HTMLButtonElement;
    await waitFor(() => expect(save.disabled).toBe(false));
    fireEvent.click(save);
    expect((await screen.findByText(/landed on/)).textContent).toBe('landed on /workflows/w9');
    const writes = page.requests.filter((r) => r.method !== 'GET' && r.url !== '/api/v1/workflows/validate');
    expect(writes.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/v1/workflows', 'PUT /api/v1/workflows/w9/canvas']);
    expect(writes[0].body).toEqual({ name: 'Drafted', description: 'from a prompt', source: 'generated', steps: [{ id: 'fetch', tool: 'http.request', parameters: {} }] });
    expect(Object.keys((writes[1].body as { nodes: object }).nodes)).toEqual(['fetch']);
  });

  it('opens a generated draft in the builder from Generate, unsaved', async () => {
    const page = render({ 'POST /api/v1/workflows/generate': { id: 'gen-1', workflow: { name: 'Release', description: 'test then publish', source: 'generated', steps: [{ id: 'test', tool: 'npm.test', parameters: {} }] } } }, '/generate');
    fireEvent.change(await screen.findByLabelText(/^Task/, {}, FIRST), { target: { value: 'release the package' } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Open in builder' }));
    expect((await screen.findByRole('heading', { level: 1 }, FIRST)).textContent).toBe('New workflow');
    await waitFor(() => expect(node('test')).toBeTruthy());
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Release');
    expect(page.requests.filter((r) => r.method !== 'GET' && !r.url.endsWith('/validate') && !r.url.endsWith('/generate'))).toEqual([]);
  });
});
