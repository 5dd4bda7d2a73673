import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Paths that are never the console's: the API, the OpenAI routes, docs, probes, the dashboard. */
const NOT_CONSOLE = ['/api', '/v1', '/docs', '/docs-json', '/health', '/metrics', '/queues', '/assets', '/mcp'];

/** Where the console's build is by default: apps/console/dist beside this app (src or dist). */
export function consoleDir(): string {
  return resolve(__dirname, '..', '..', '..', 'console', 'dist');
}

/**
 * Serves the web console (apps/console) at `/` on the gateway's origin, so its requests carry the
 * session cookie and need no CORS. Built files under /assets have hashed names: cached for ever,
 * served pre-compressed (brotli or gzip, as the build wrote them). Any other GET that a browser
 * navigates to (Accept: text/html) outside the API's paths is the page itself, whose router shows
 * the view; it is never cached, so a new build is picked up at the next load.
 */
export async function serveConsole(app: NestFastifyApplication, dir = consoleDir()): Promise<boolean> {
  const log = new Logger('Console');
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    log.warn(`no console at ${dir} (build it: npm run build); / answers 404`);
    return false;
  }
  const page = readFileSync(indexFile);
  await app.register(fastifyStatic, { root: join(dir, 'assets'), prefix: '/assets/', preCompressed: true, immutable: true, maxAge: '365d', index: false });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (req, reply, done) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return done();
      const path = req.url.split('?')[0];
      if (NOT_CONSOLE.some((p) => path === p || path.startsWith(`${p}/`))) return done();
      if (path !== '/' && !String(req.headers.accept ?? '').includes('text/html')) return done();
      void reply
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        // Scripts and data from this origin only; the component library sets inline styles.
        .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
        .type('text/html; charset=utf-8')
        .send(page);
    });
  log.log(`console served at / from ${dir}`);
  return true;
}
