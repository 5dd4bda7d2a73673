/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import ProcessMapPage from './ProcessMapPage';

const basis = { source: 'all', exact: true, from: null, to: null, notes: [] };
const flow = {
  sessions: 12,
  activities: [
    { tool: 'git.clone', count: 12 },
    { tool: 'npm.test', count: 15 },
  ],
  edges: [
    { from: 'git.clone', to: 'npm.test', count: 11, meanGapMs: 1500, p95GapMs: 4000 },
    { from: 'npm.test', to: 'npm.test', count: 3, meanGapMs: 20, p95GapMs: 40 },
  ],
  starts: [{ tool: 'git.clone', count: 12 }],
  ends: [{ tool: 'npm.test', count: 12 }],
  basis,
};
const variant = (id: string, tools: string[], count: number) => ({ variantId: id, tools, length: tools.length, count, share: count / 12, successful: count, failed: 0, successRate: 1, meanDurationMs: 100, exact: true });

describe('ProcessMapPage', () => {
  it('draws tools and transitions, sends the filters, and pages the variants', async () => {
    const page = renderPage(<ProcessMapPage />, {
      answers: {
        'GET /api/v1/stats/flow': flow,
        'GET /api/v1/stats/variants': { items: [variant('v1', ['git.clone', 'npm.test'], 9)], nextCursor: 'c2', sessions: 12, otherSessions: 0, basis },
      },
    });
    expect(screen.getByRole('heading', { level: 1, name: 'Process map' })).toBeTruthy();
    const graph = await screen.findByRole('group', { name: /Process map: tools/ });
    await waitFor(() => expect(graph.textContent).toContain('15 calls · repeats 3'));
    const transitions = screen.getByRole('table', { name: 'Transitions' });
    expect(within(transitions).getAllByRole('row')[1].textContent).toBe('git.clonenpm.test111.5 s4 s');
    const variants = await screen.findByRole('table', { name: 'Variants' });
    expect(within(variants).getAllByRole('row')[1].textContent).toBe('git.clone → npm.test975 %100 %');

    // The second page of variants: asked for with the cursor, listed after the first.
    const fetchFirst = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input), 'http://localhost');
      if (url.pathname === '/api/v1/stats/variants' && url.searchParams.get('cursor') === 'c2') {
        await fetchFirst(input, init);
        return new Response(JSON.stringify({ items: [variant('v2', ['git.clone'], 3)], nextCursor: null, sessions: 12, otherSessions: 0, basis }), { headers: { 'content-type': 'application/json' } });
      }
      return fetchFirst(input, init);
    }) as typeof fetch;
    fireEvent.click(screen.getByRole('button', { name: 'More variants' }));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Variants' })).getAllByRole('row')).toHaveLength(3));
    expect(screen.queryByRole('button', { name: 'More variants' })).toBeNull();
    expect(page.requests.map((r) => r.url)).toContain('/api/v1/stats/variants?limit=20&cursor=c2');

    fireEvent.change(screen.getByLabelText('User'), { target: { value: 'u-7' } });
    fireEvent.change(screen.getByLabelText('Intent'), { target: { value: 'fix the build' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(page.requests.map((r) => r.url)).toContain('/api/v1/stats/flow?userId=u-7&intent=fix%20the%20build'));
    expect(page.requests.map((r) => r.url)).toContain('/api/v1/stats/variants?userId=u-7&intent=fix%20the%20build&limit=20');
  });

  it('tables a large map 50 transitions at a time', async () => {
    const tools = Array.from({ length: 12 }, (_, i) => `t${i}`);
    // 12 tools each followed by the 11 others: 132 transitions, most frequent first.
    const edges = tools.flatMap((from, i) => tools.filter((to) => to !== from).map((to, j) => ({ from, to, count: 1000 - i * 11 - j, meanGapMs: 10, p95GapMs: 20 })));
    renderPage(<ProcessMapPage />, {
      answers: {
        'GET /api/v1/stats/flow': { ...flow, activities: tools.map((tool) => ({ tool, count: 50 })), edges },
        'GET /api/v1/stats/variants': { items: [], nextCursor: null, sessions: 12, otherSessions: 0, basis },
      },
    });
    const table = await screen.findByRole('table', { name: 'Transitions' });
    const pages = screen.getByRole('navigation', { name: 'Pages of transitions' });
    const rows = () => within(screen.getByRole('table', { name: 'Transitions' })).getAllByRole('row').slice(1);
    expect(rows()).toHaveLength(50);
    expect(within(table).getAllByRole('row')[1].textContent).toBe('t0t1100010 ms20 ms');
    expect(pages.textContent).toContain('Transitions 1–50 of 132');
    expect((within(pages).getByRole('button', { name: 'Previous transitions' }) as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(within(pages).getByRole('button', { name: 'Next transitions' }));
    fireEvent.click(within(pages).getByRole('button', { name: 'Next transitions' }));
    expect(rows()).toHaveLength(32);
    expect(rows()[0].textContent).toBe(`${edges[100].from}${edges[100].to}${edges[100].count}10 ms20 ms`);
    expect(pages.textContent).toContain('Transitions 101–132 of 132');
    expect((within(pages).getByRole('button', { name: 'Next transitions' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(pages).getByRole('button', { name: 'Previous transitions' }));
    expect(pages.textContent).toContain('Transitions 51–100 of 132');
    expect(screen.getByText(/the map is laid out along each tool’s most frequent ones/)).toBeTruthy();
    // Every transition between the 12 drawn tools is drawn on the map.
    const graph = screen.getByRole('group', { name: /Process map: tools/ });
    await waitFor(() => expect(graph.querySelectorAll('.react-flow__edge')).toHaveLength(132));
  });

  it('says when the map is approximate, and shows a refusal', async () => {
    renderPage(<ProcessMapPage />, {
      answers: {
        'GET /api/v1/stats/flow': { ...flow, basis: { ...basis, source: 'recent-sessions', exact: false, notes: ['older sessions could match'] } },
        'GET /api/v1/stats/variants': [400, { statusCode: 400, message: 'to must be later than from' }],
      },
    });
    expect(await screen.findByText('older sessions could match')).toBeTruthy();
    expect((await screen.findByText('to must be later than from')).closest('[role="alert"]')).toBeTruthy();
  });
});
