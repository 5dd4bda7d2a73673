import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { gatewayHarness } from './gateway-harness';

/** A console build of our own: a page and one hashed asset with its brotli copy. */
const consoleDir = mkdtempSync(join(tmpdir(), 'toolpath-console-'));
mkdirSync(join(consoleDir, 'assets'));
writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Toolpath</title><div id="root"></div>');
const script = 'console.log("toolpath console");'.repeat(50);
writeFileSync(join(consoleDir, 'assets', 'index-abc123.js'), script);
writeFileSync(join(consoleDir, 'assets', 'index-abc123.js.br'), brotliCompressSync(script));

const ctx = gatewayHarness('gwconsole');
const call = ctx.call;

beforeAll(async () => {
  await ctx.connect();
  await ctx.startGateway({ GATEWAY_CONSOLE_DIR: consoleDir, GATEWAY_SESSION_TTL_HOURS: '1' });
}, 60_000);

afterAll(() => ctx.teardown());

const cookieOf = (headers: Headers) => headers.get('set-cookie') ?? '';

describe('console sign-in', () => {
  it('exchanges a key for an HttpOnly, SameSite=Strict session cookie that authorises the API in place of the key', async () => {
    const refused = await call('POST', '/api/v1/session', { key: null, body: { apiKey: 'not-a-key-0123456789' } });
    expect(refused.status).toBe(401);
    expect(cookieOf(refused.headers)).toBe('');

    const signedIn = await call('POST', '/api/v1/session', { key: null, body: { apiKey: ctx.keyA } });
    expect(signedIn.status).toBe(201);
    expect(signedIn.body).toMatchObject({ tenantId: 'acme', expiresAt: expect.any(String) });
    const cookie = cookieOf(signedIn.headers);
    expect(cookie).toMatch(/^toolpath_session=v1\.[0-9a-f]{64}\.\d+\.[0-9a-f]{64};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=3600/);
    expect(cookie).not.toContain(ctx.keyA);

    const session = cookie.split(';')[0];
    const me = await call('GET', '/api/v1/session', { key: null, headers: { cookie: session } });
    expect(me).toMatchObject({ status: 200, body: { tenantId: 'acme' } });
    const listed = await call('GET', '/api/v1/workflows', { key: null, headers: { cookie: session } });
    expect(listed.status).toBe(200);
    // Event streams authorise with it too (no header can be set on an EventSource).
    const stream = await call('GET', '/api/v1/executions/ex_missing/stream', { key: null, headers: { cookie: session } });
    expect(stream.status).not.toBe(401);
  });

  it('refuses an altered cookie with a message that says to sign in again, and a key header decides over a cookie', async () => {
    const signedIn = await call('POST', '/api/v1/session', { key: null, body: { apiKey: ctx.keyA } });
    const session = cookieOf(signedIn.headers).split(';')[0];
    const altered = session.slice(0, -1) + (session.endsWith('0') ? '1' : '0');
    const r = await call('GET', '/api/v1/workflows', { key: null, headers: { cookie: altered } });
    expect(r.status).toBe(401);
    expect(r.body.message).toMatch(/sign in again/);
    expect((await call('GET', '/api/v1/workflows', { key: 'not-a-key-0123456789', headers: { cookie: session } })).status).toBe(401);
  });

  it('signs out by clearing the cookie', async () => {
    const out = await call('DELETE', '/api/v1/session', { key: null });
    expect(out.status).toBe(204);
    expect(cookieOf(out.headers)).toMatch(/^toolpath_session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/i);
  });
});

describe('the console at /', () => {
  it('serves the page at / and at any path a browser navigates to outside the API, never cached', async () => {
    for (const path of ['/', '/patterns/p1', '/runs/ex_1?tab=steps']) {
      const res = await fetch(`${ctx.base}${path}`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(await res.text()).toContain('<div id="root">');
    }
  });

  it('leaves the API, the docs and unknown non-page requests to their own answers', async () => {
    const api = await fetch(`${ctx.base}/api/v1/no-such-route`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(10_000) });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/json/);
    const json = await fetch(`${ctx.base}/patterns/p1`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    expect(json.status).toBe(404);
    const docs = await fetch(`${ctx.base}/docs-json`, { signal: AbortSignal.timeout(10_000) });
    expect(docs.status).toBe(200);
  });

  it('serves hashed assets pre-compressed and cached for ever', async () => {
    const res = await fetch(`${ctx.base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'br' }, signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    expect(await res.text()).toBe(script);
  });
});
