import { createToolpathClient } from './client';

/** What the client sends and how it reads answers, through a fetch of the test's (no server). */
function recordingFetch(status: number, body: unknown) {
  const requests: Request[] = [];
  const fetch = async (request: Request) => {
    requests.push(request);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { requests, fetch };
}

it('sends the key as a bearer token, to the base URL without its trailing slash, with the query encoded', async () => {
  const { requests, fetch } = recordingFetch(200, { items: [], nextCursor: null });
  const client = createToolpathClient({ baseUrl: 'http://127.0.0.1:3999//', apiKey: 'key-0123456789abcdef', fetch });
  const page = await client.GET('/api/v1/workflows', { params: { query: { limit: 5, source: 'learned' } } });
  expect(page.data).toEqual({ items: [], nextCursor: null });
  expect(requests).toHaveLength(1);
  expect(requests[0].url).toBe('http://127.0.0.1:3999/api/v1/workflows?limit=5&source=learned');
  expect(requests[0].headers.get('authorization')).toBe('Bearer key-0123456789abcdef');
});

it('puts path parameters in the path and reads an error answer as `error`', async () => {
  const { requests, fetch } = recordingFetch(404, { statusCode: 404, error: 'Not Found', message: 'no workflow wf_1 here' });
  const client = createToolpathClient({ baseUrl: 'http://127.0.0.1:3999', apiKey: 'key-0123456789abcdef', fetch });
  const got = await client.GET('/api/v1/workflows/{id}', { params: { path: { id: 'wf_1' } } });
  expect(requests[0].url).toBe('http://127.0.0.1:3999/api/v1/workflows/wf_1');
  expect(got.data).toBeUndefined();
  expect(got.error).toEqual({ statusCode: 404, error: 'Not Found', message: 'no workflow wf_1 here' });
  expect(got.response.status).toBe(404);
});
