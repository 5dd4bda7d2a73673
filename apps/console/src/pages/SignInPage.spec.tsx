/** @jest-environment jest-fixed-jsdom */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { renderPage } from '../test-support/render';
import { SignInPage } from './SignInPage';

describe('SignInPage', () => {
  it('sends the key for a session, and shows the refusal when the key is unknown', async () => {
    const page = renderPage(<SignInPage />, { path: '/signin', answers: { 'POST /api/v1/session': [401, { statusCode: 401, message: 'unknown API key' }] } });
    fireEvent.change(screen.getByLabelText(/API key/), { target: { value: 'tp_wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('unknown API key');
    await waitFor(() => expect(page.requests).toContainEqual({ method: 'POST', url: '/api/v1/session', body: { apiKey: 'tp_wrong' } }));
  });
});
