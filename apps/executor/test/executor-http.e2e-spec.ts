import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutorHarness, workflow } from './executor-harness';

jest.setTimeout(60_000);

const MAX_BYTES = 64 * 1024;

describe('executor http.request built-in (against a local server)', () => {
  const h = new ExecutorHarness({ EXECUTOR_HTTP_MAX_BYTES: String(MAX_BYTES) });
  const hits = new Map<string, number>();
  let server: Server;
  let base: string;
  const slowTimers = new Set<NodeJS.Timeout>();

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/json': (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hello: 'world', method: req.method, n: [1, 2, 3] }));
    },
    '/boom': (_req, res) => {
      res.statusCode = 500;
      res.end('internal error');
    },
    '/slow': (_req, res) => {
      const t = setTimeout(() => res.end('late'), 5000);
      slowTimers.add(t);
      res.on('close', () => clearTimeout(t));
    },
    // Chunked, no content-length: the limit must hold while reading, not only on the header.
    '/big-chunked': (_req, res) => {
      const chunk = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 8; i++) res.write(chunk);
      res.end();
    },
    '/big-declared': (_req, res) => {
      const body = 'y'.repeat(MAX_BYTES + 1);
      res.setHeader('content-length', String(body.length));
      res.end(body);
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const route = routes[path];
      if (route) return route(req, res);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await h.setup();
    await h.startExecutor();
  });
  afterAll(async () => {
    await h.teardown();
    for (const t of slowTimers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const httpStep = (id: string, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id, tool: 'http.request', parameters, ...extra });

  it('GET of JSON: the parsed body is the step result', async () => {
    const id = await h.startOk({ definition: workflow([httpStep('get', { url: `${base}/json` })]) });
    const run = await h.finished(id);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps[0].result).toMatchObject({ status: 200, body: { hello: 'world', method: 'GET', n: [1, 2, 3] } });
  });

  it('a 500 is a retryable failure: retried up to maxAttempts, then FAILED', async () => {
    hits.delete('/boom');
    const id = await h.startOk({
      definition: workflow([httpStep('boom', { url: `${base}/boom` }, { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20 } } })]),
    });
    const run = await h.finished(id);
    expect(run.status).toBe('FAILED');
    expect(run.steps[0].attempts).toBe(3);
    expect(run.steps[0].error).toMatch(/answered 500/);
    expect(hits.get('/boom')).toBe(3);
  });

  it('timeoutMs: a slow endpoint fails the step with a timeout', async () => {
    const id = await h.startOk({ definition: workflow([httpStep('slow', { url: `${base}/slow`, timeoutMs: 200 })]) });
    const t0 = Date.now();
    const run = await h.finished(id);
    expect(run.status).toBe('FAILED');
    expect(run.steps[0].error).toMatch(/no answer within 200 ms/);
    expect(run.steps[0].durationMs!).toBeGreaterThanOrEqual(190);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('a response over EXECUTOR_HTTP_MAX_BYTES fails clearly (streamed and declared)', async () => {
    for (const path of ['/big-chunked', '/big-declared']) {
      const id = await h.startOk({ definition: workflow([httpStep('big', { url: `${base}${path}` }, { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 10 } } })]) });
      const run = await h.finished(id);
      expect(run.status).toBe('FAILED');
      expect(run.steps[0].error).toMatch(new RegExp(`exceeds EXECUTOR_HTTP_MAX_BYTES \\(${MAX_BYTES}\\)`));
      // Too large is not worth a retry.
      expect(run.steps[0].attempts).toBe(1);
    }
  });

  it('a host off the allow-list is refused before any connection', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      // 10.255.255.1 is unroutable here: a connection attempt would hang until the step timeout.
      const id = await h.startOk({ definition: workflow([httpStep('ssrf', { url: 'http://10.255.255.1:81/latest/meta-data' }, { timeoutMs: 10_000 })]) });
      const run = await h.finished(id);
      expect(run.status).toBe('FAILED');
      expect(run.steps[0].error).toMatch(/host 10\.255\.255\.1 is not allowed/);
      expect(run.steps[0].attempts).toBe(1);
      expect(run.steps[0].durationMs!).toBeLessThan(1000);
      expect(fetchSpy.mock.calls.some(([url]) => String(url).includes('10.255.255.1'))).toBe(false);
    } finally {
      fetchSpy.mockRestore();
    }
  });
});
