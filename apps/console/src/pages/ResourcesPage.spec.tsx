/** @jest-environment jest-fixed-jsdom */
import { screen, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import ResourcesPage from './ResourcesPage';

const tools = {
  items: [
    { name: 'http.request', source: 'builtin', description: 'Calls a URL' },
    { name: 'crm.lookup', source: 'nats', description: 'Finds a customer', provider: { id: 'crm-1', sdk: 'typescript' }, expiresAt: '2026-12-06T08:00:00Z' },
    { name: 'mcp:files/read', source: 'mcp', server: 'files', description: 'Reads a file' },
  ],
  nextCursor: null,
  warnings: [{ source: 'mcp', server: 'search', message: 'connect ECONNREFUSED 127.0.0.1:9' }],
};

const mcps = {
  items: [
    { name: 'files', transport: 'stdio', target: 'node files.js', state: 'connected', toolCount: 1, toolsFetchedAt: null, connectedAt: '2026-12-06T07:00:00Z', lastError: null, failures: 0 },
    { name: 'search', transport: 'http', target: 'http://127.0.0.1:9/mcp', state: 'failed', toolCount: null, toolsFetchedAt: null, connectedAt: null, lastError: 'connect ECONNREFUSED 127.0.0.1:9', failures: 3 },
  ],
  nextCursor: null,
};

const agents = {
  items: [
    { agentId: 'agent-7', events: 40, failed: 4, successRate: 0.9, tools: [{ tool: 'http.request', count: 30 }], lastSeenAt: '2026-12-06T07:45:00.000Z' },
    { agentId: 'agent-8', events: 0, failed: 0, successRate: null, tools: [], lastSeenAt: null },
  ],
  nextCursor: null,
};

const answers = { 'GET /api/v1/workflows/resources/tools': tools, 'GET /api/v1/workflows/resources/mcps': mcps, 'GET /api/v1/workflows/resources/agents': agents };

/** The first render loads the component library and the page: slower than 1 s on a busy machine. */
const FIRST = { timeout: 5000 };

describe('ResourcesPage', () => {
  it('lists the tools with their source and provider', async () => {
    renderPage(<ResourcesPage />, { path: '/resources', answers });
    const table = await screen.findByRole('table', { name: 'Tools' }, FIRST);
    const row = within(table).getByText('crm.lookup').closest('tr') as HTMLElement;
    expect(row.textContent).toContain('nats');
    expect(row.textContent).toContain('crm-1 (typescript), alive until');
    expect(within(table).getByText('http.request').closest('tr')?.textContent).toContain('builtin');
    expect(screen.getByText(/Some mcp tools are missing \(server search\)/)).toBeTruthy();
  });

  it('shows each MCP server with its state, its tools, and the error of a dead one', async () => {
    renderPage(<ResourcesPage />, { path: '/resources', answers });
    const dead = await screen.findByRole('article', { name: 'search' }, FIRST);
    expect(within(dead).getByText('failed')).toBeTruthy();
    expect(within(dead).getByRole('alert').textContent).toContain('connect ECONNREFUSED 127.0.0.1:9');
    expect(dead.textContent).toContain('3 failed attempts in a row');
    const alive = screen.getByRole('article', { name: 'files' });
    expect(within(alive).getByText('connected')).toBeTruthy();
    expect(within(alive).queryByRole('alert')).toBeNull();
    expect(within(alive).getByRole('list', { name: 'Tools of files' }).textContent).toContain('mcp:files/read — Reads a file');
  });

  it('lists the agents with their calls, failures, tools and when each was last seen', async () => {
    renderPage(<ResourcesPage />, { path: '/resources', answers });
    const row = (await screen.findByText('agent-7', {}, FIRST)).closest('tr') as HTMLElement;
    const seen = new Date('2026-12-06T07:45:00.000Z').toLocaleString();
    expect(Array.from(row.querySelectorAll('td')).map((td) => td.textContent)).toEqual(['agent-7', '40', '4', '90%', 'http.request (30)', seen]);
    expect(row.querySelector('time')?.getAttribute('dateTime')).toBe('2026-12-06T07:45:00.000Z');
    const never = screen.getByText('agent-8').closest('tr') as HTMLElement;
    expect(never.querySelectorAll('td')[5].textContent).toBe('—');
  });

  it('keeps the other sections when one endpoint fails', async () => {
    renderPage(<ResourcesPage />, { path: '/resources', answers: { ...answers, 'GET /api/v1/workflows/resources/mcps': [500, { statusCode: 500, message: 'pool closed' }] } });
    expect((await screen.findByRole('alert', { name: /MCP servers could not be listed/ }, FIRST)).textContent).toContain('pool closed');
    expect(await screen.findByText('agent-7')).toBeTruthy();
    expect(screen.getByRole('table', { name: 'Tools' })).toBeTruthy();
  });
});
