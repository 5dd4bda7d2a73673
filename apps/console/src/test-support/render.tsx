import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';

/**
 * Renders a page as the console does (component library, queries, router at `path`), with the
 * API answered by `answers`: a map of `METHOD /path` (query string ignored) to a JSON body or a
 * [status, body] pair. Unknown requests answer 404, so a page that asks for something unexpected
 * shows it. Requests made are recorded in `requests`.
 */
export function renderPage(
  page: ReactElement,
  opts: { path?: string; route?: string; answers?: Record<string, unknown> } = {},
): RenderResult & { requests: Array<{ method: string; url: string; body?: unknown }> } {
  const requests: Array<{ method: string; url: string; body?: unknown }> = [];
  const answers = opts.answers ?? {};
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost'), init);
    const url = new URL(req.url, 'http://localhost');
    const text = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text();
    requests.push({ method: req.method, url: url.pathname + url.search, ...(text ? { body: JSON.parse(text) } : {}) });
    const answer = answers[`${req.method} ${url.pathname}`];
    const [status, body] = Array.isArray(answer) && typeof answer[0] === 'number' ? (answer as [number, unknown]) : answer === undefined ? [404, { statusCode: 404, message: 'not found' }] : [200, answer];
    return new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const route = opts.route ?? opts.path ?? '/';
  const result = render(
    <MantineProvider>
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={[opts.path ?? '/']}>
          <Routes>
            <Route path={route} element={page} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
  return Object.assign(result, { requests });
}
