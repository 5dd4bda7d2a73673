/** @jest-environment jest-fixed-jsdom */
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { setEventSourceFactory, type EventSourceLike } from '../components/run/runStream';
import { renderPage } from '../test-support/render';
import RunPage from './RunPage';

/** A stand-in for the browser's EventSource (jsdom has none): the test emits the server's events. */
class FakeSource implements EventSourceLike {
  static opened: FakeSource[] = [];
  onerror: ((e: Event) => void) | null = null;
  closed = false;
  private listeners = new Map<string, Array<(e: MessageEvent<string>) => void>>();
  constructor(readonly url: string) {
    FakeSource.opened.push(this);
  }
  addEventListener(type: string, listener: (e: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: unknown) {
    act(() => this.listeners.get(type)?.forEach((l) => l(new MessageEvent(type, { data: JSON.stringify(data) }))));
  }
  fail() {
    act(() => this.onerror?.(new Event('error')));
  }
}

const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 7, 0, s)).toISOString();
const definition = {
  id: 'w1',
  name: 'Fan out',
  description: 'd',
  source: 'user',
  version: 3,
  createdAt: at(0),
  steps: [
    { id: 'a', tool: 'fetch', parameters: { url: '{{ input.url }}' } },
    { id: 'b', tool: 'slow', parameters: {}, dependsOn: ['a'] },
    { id: 'c', tool: 'quick', parameters: {}, dependsOn: ['a'] },
    { id: 'd', tool: 'join', parameters: {}, dependsOn: ['b', 'c'] },
  ],
};
const step = (id: string, status: string, from: number | null, to: number | null, extra: object = {}) => ({
  id,
  tool: definition.steps.find((s) => s.id === id)!.tool,
  status,
  attempts: from === null ? 0 : 1,
  startedAt: from === null ? null : at(from),
  endedAt: to === null ? null : at(to),
  durationMs: from !== null && to !== null ? (to - from) * 1000 : null,
  ...extra,
});
const finished = {
  id: 'r1',
  workflowId: 'w1',
  version: 3,
  status: 'COMPLETED',
  input: { url: 'https://example.test' },
  steps: [step('a', 'COMPLETED', 0, 1, { result: { rows: 12 } }), step('b', 'COMPLETED', 1, 3), step('c', 'COMPLETED', 1, 2), step('d', 'COMPLETED', 3, 4)],
  startedAt: at(0),
  endedAt: at(4),
  durationMs: 4000,
  parallelSpeedup: 1.25,
};
const running = {
  ...finished,
  status: 'RUNNING',
  steps: [step('a', 'RUNNING', 0, null), step('b', 'PENDING', null, null), step('c', 'PENDING', null, null), step('d', 'PENDING', null, null)],
  endedAt: null,
  durationMs: null,
  parallelSpeedup: null,
};

function Landed() {
  return <p>landed on {useLocation().pathname}</p>;
}

function render(run: object, extra: Record<string, unknown> = {}) {
  return renderPage(
    <Routes>
      <Route path="/runs/:id" element={<RunPage />} />
      <Route path="*" element={<Landed />} />
    </Routes>,
    { path: '/runs/r1', route: '/*', answers: { 'GET /api/v1/executions/r1': run, 'GET /api/v1/workflows/w1/versions/3': definition, ...extra } },
  );
}

/** The tone LayeredGraph gives a step's node (its title). */
async function toneOf(stepId: string): Promise<string | null> {
  const graph = screen.getByRole('group', { name: 'Steps of the run, coloured by state' });
  const label = await within(graph).findByText(stepId, { selector: 'div' });
  return label.closest('[title]')?.getAttribute('title') ?? null;
}

let restore: ReturnType<typeof setEventSourceFactory>;
beforeEach(() => {
  FakeSource.opened = [];
  restore = setEventSourceFactory((url) => new FakeSource(url));
});
afterEach(() => setEventSourceFactory(restore));

describe('RunPage', () => {
  it('follows a live run over its stream: the DAG tones follow the updates, the end brings the final run', async () => {
    const page = render(running);
    await screen.findByRole('heading', { level: 1, name: 'Run r1' });
    await waitFor(() => expect(FakeSource.opened.map((s) => s.url)).toEqual(['/api/v1/executions/r1/stream']));
    const source = FakeSource.opened[0];
    source.emit('state', running);
    expect(await toneOf('a')).toBe('running');
    expect(await toneOf('b')).toBe('pending');

    source.emit('update', { executionId: 'r1', kind: 'step', stepId: 'a', status: 'COMPLETED', at: at(1), attempt: 1, durationMs: 1000 });
    source.emit('update', { executionId: 'r1', kind: 'step', stepId: 'b', status: 'RUNNING', at: at(1), attempt: 1 });
    await waitFor(async () => expect(await toneOf('a')).toBe('completed'));
    expect(await toneOf('b')).toBe('running');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();

    source.emit('end', finished);
    await waitFor(() => expect(screen.getByLabelText('status completed')).toBeTruthy());
    expect(await toneOf('d')).toBe('completed');
    expect(screen.getByText(/parallel speedup ×1\.25/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(source.closed).toBe(true);
    page.unmount();
  });

  it('closes the stream when the page goes away', async () => {
    const page = render(running);
    await waitFor(() => expect(FakeSource.opened).toHaveLength(1));
    expect(FakeSource.opened[0].closed).toBe(false);
    page.unmount();
    expect(FakeSource.opened[0].closed).toBe(true);
  });

  it('reads the run every 2 s when the stream fails', async () => {
    const page = render(running);
    await waitFor(() => expect(FakeSource.opened).toHaveLength(1));
    FakeSource.opened[0].fail();
    expect(await screen.findByText(/reading every 2 s/)).toBeTruthy();
    const reads = () => page.requests.filter((r) => r.url === '/api/v1/executions/r1').length;
    const before = reads();
    await waitFor(() => expect(reads()).toBeGreaterThan(before), { timeout: 3500 });
    expect(FakeSource.opened).toHaveLength(1);
    page.unmount();
  });

  it('draws the Gantt with the critical path through dependsOn, and opens no stream for an ended run', async () => {
    render(finished);
    // The dependencies come with the workflow's version, read after the run.
    expect(await screen.findByText(/Critical path: a → b → d/)).toBeTruthy();
    const rows = within(screen.getByRole('list', { name: 'Step timeline' })).getAllByRole('listitem');
    expect(rows.map((r) => r.getAttribute('aria-label'))).toEqual([
      'a: from 0 ms to 1.00 s, 1.00 s, on the critical path',
      'b: from 1.00 s to 3.00 s, 2.00 s, on the critical path',
      'c: from 1.00 s to 2.00 s, 1.00 s',
      'd: from 3.00 s to 4.00 s, 1.00 s, on the critical path',
    ]);
    expect(screen.getByText(/Parallel speedup ×1\.25/)).toBeTruthy();
    expect(FakeSource.opened).toEqual([]);
  });

  it("shows each step's attempts, parameters, result and error", async () => {
    render({ ...finished, status: 'FAILED', error: 'step d failed', steps: [...finished.steps.slice(0, 3), step('d', 'FAILED', 3, 4, { attempts: 2, error: 'join refused' })] });
    fireEvent.click(await screen.findByRole('button', { name: /^a fetch completed 1 attempt$/ }));
    expect(await screen.findByText(/"url": "\{\{ input.url \}\}"/)).toBeTruthy();
    expect(screen.getByText(/"rows": 12/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /^d join failed 2 attempts$/ }));
    expect(await screen.findByText('join refused')).toBeTruthy();
  });

  it('cancels a live run', async () => {
    const page = render(running, { 'POST /api/v1/executions/r1/cancel': { ...running, status: 'CANCELLED' } });
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.getByLabelText('status cancelled')).toBeTruthy());
    expect(page.requests).toContainEqual({ method: 'POST', url: '/api/v1/executions/r1/cancel' });
    page.unmount();
  });

  it('runs the workflow again with the same input, then opens the new run', async () => {
    const page = render(finished, { 'POST /api/v1/workflows/w1/executions': { executionId: 'r2', status: 'PENDING' }, 'GET /api/v1/executions/r2': { ...running, id: 'r2' } });
    fireEvent.click(await screen.findByRole('button', { name: 'Run again' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Run r2' })).toBeTruthy();
    // The new run is live: the page follows it on its own stream.
    await waitFor(() => expect(FakeSource.opened.map((s) => s.url)).toEqual(['/api/v1/executions/r2/stream']));
    expect(page.requests).toContainEqual({ method: 'POST', url: '/api/v1/workflows/w1/executions', body: { input: { url: 'https://example.test' } } });
    page.unmount();
  });
});
