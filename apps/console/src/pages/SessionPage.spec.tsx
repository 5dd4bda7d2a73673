/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, within } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import SessionPage from './SessionPage';

const T0 = Date.UTC(2026, 11, 6, 6, 0, 0);
const event = (n: number, tool: string, startOffsetMs: number, durationMs: number, extra: object = {}) => ({
  specVersion: '1',
  eventId: `e${n}`,
  tenantId: 't1',
  sessionId: 's1',
  seq: n,
  kind: 'tool_call',
  tool,
  // Both forms the API may give: ISO text and epoch ms.
  startedAt: n % 2 ? new Date(T0 + startOffsetMs).toISOString() : T0 + startOffsetMs,
  durationMs,
  success: true,
  ...extra,
});
const session = {
  sessionId: 's1',
  intent: 'Deploy the billing service',
  success: false,
  events: [
    event(1, 'git.clone', 0, 1000, { parameters: { repo: 'billing' }, result: { commit: 'abc123' } }),
    event(2, 'npm.test', 1000, 2000, { success: false, error: 'exit code 1: 3 tests failed', parameters: { script: 'test' } }),
    event(3, 'slack.send', 3000, 1000, { parameters: { channel: '#deploys' } }),
    { specVersion: '1', eventId: 'e4', tenantId: 't1', sessionId: 's1', seq: 4, kind: 'session_end', startedAt: T0 + 4000, durationMs: 0, success: false },
  ],
};

const render = (answer: unknown) => renderPage(<SessionPage />, { path: '/sessions/s1', route: '/sessions/:id', answers: { 'GET /api/v1/sessions/s1': answer } });
const timelineRows = () => within(screen.getByRole('list', { name: 'Tool call timeline' })).getAllByRole('listitem');

describe('SessionPage', () => {
  it('heads the page with the intent and the outcome', async () => {
    render(session);
    expect(await screen.findByRole('heading', { level: 1, name: 'Deploy the billing service' })).toBeTruthy();
    expect(screen.getByLabelText('outcome failed').textContent).toContain('failed');
    expect(screen.getByText(/3 calls, 1 failed · ended/)).toBeTruthy();
  });

  it('draws one bar per tool call, placed by its start on a shared axis, and marks the failed call in words', async () => {
    render(session);
    await screen.findByRole('list', { name: 'Tool call timeline' });
    const rows = timelineRows();
    // The session_end is not a call: three rows.
    expect(rows.map((r) => r.getAttribute('aria-label'))).toEqual([
      '1. git.clone: from 0 ms to 1.00 s, 1.00 s, succeeded',
      '2. npm.test: from 1.00 s to 3.00 s, 2.00 s, failed',
      '3. slack.send: from 3.00 s to 4.00 s, 1.00 s, succeeded',
    ]);
    const bars = rows.map((r) => within(r).getByTestId('call-bar') as HTMLElement);
    // Span 4 s: starts at 0, 1 and 3 s are 0 %, 25 % and 75 %; durations 1, 2, 1 s.
    expect(bars.map((b) => b.style.left)).toEqual(['0%', '25%', '75%']);
    expect(bars.map((b) => b.style.width)).toEqual(['max(3px, 25%)', 'max(3px, 50%)', 'max(3px, 25%)']);
    expect(within(rows[1]).getByText(/✕ failed/)).toBeTruthy();
    expect(within(rows[0]).queryByText(/failed/)).toBeNull();
    expect(rows[1].getAttribute('data-failed')).toBe('true');
    expect(screen.getByText(/3 calls over 4.00 s, 1 failed/)).toBeTruthy();
  });

  it("shows each call's parameters, result and error as JSON in an accordion", async () => {
    render(session);
    const calls = await screen.findByRole('region', { name: 'Calls' });
    const failedCall = within(calls).getByRole('button', { name: /2\. npm\.test/ });
    expect(within(failedCall).getByText('✕ failed')).toBeTruthy();
    fireEvent.click(failedCall);
    const error = await within(calls).findByText('exit code 1: 3 tests failed');
    expect(error.tagName).toBe('PRE');
    fireEvent.click(within(calls).getByRole('button', { name: /1\. git\.clone/ }));
    const result = await within(calls).findByText(/"commit": "abc123"/);
    expect(result.tagName).toBe('PRE');
    expect(within(calls).getByText(/"repo": "billing"/).tagName).toBe('PRE');
  });

  it('says "No such session" on a 404', async () => {
    render([404, { statusCode: 404, message: 'no events for session s1' }]);
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText('No such session')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Back to the sessions' }).getAttribute('href')).toBe('/sessions');
  });

  it('shows any other refusal as it is', async () => {
    render([400, { statusCode: 400, message: 'id must be at most 256 characters' }]);
    expect(within(await screen.findByRole('alert')).getByText('id must be at most 256 characters')).toBeTruthy();
  });
});
