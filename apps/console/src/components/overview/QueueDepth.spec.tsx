/** @jest-environment jest-fixed-jsdom */
import { screen, within } from '@testing-library/react';
import { renderPage } from '../../test-support/render';
import { QueueDepth } from './QueueDepth';

const counts = { waiting: 1200, prioritized: 0, active: 4, delayed: 3, 'waiting-children': 0, failed: 2, completed: 50, paused: 0 };

describe('QueueDepth', () => {
  it('shows the jobs of each queue by state', async () => {
    renderPage(<QueueDepth />, { answers: { 'GET /api/v1/stats/queues': { queues: [{ name: 'steps', counts }] } } });
    const table = await screen.findByRole('table', { name: 'Jobs per queue and state' });
    const row = within(table).getAllByRole('row')[1];
    expect(Array.from(row.querySelectorAll('td')).map((td) => td.textContent)).toEqual(['steps', '1,200', '0', '4', '3', '2', '50']);
    expect(screen.getByRole('link', { name: 'queue dashboard' }).getAttribute('href')).toBe('/queues');
  });

  it('says why a tenant is not shown the shared queues, without retrying', async () => {
    const page = renderPage(<QueueDepth />, { answers: { 'GET /api/v1/stats/queues': [403, { statusCode: 403, message: 'tenant "acme" may not see the shared queues' }] } });
    expect(await screen.findByText(/not shown to this tenant: tenant "acme" may not see/)).toBeTruthy();
    expect(page.requests.length).toBe(1);
  });
});
