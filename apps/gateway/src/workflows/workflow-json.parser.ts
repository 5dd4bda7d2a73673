import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { isForbiddenKey } from '@toolpath/workflow';

/**
 * Routes whose bodies carry workflow definitions. There, a `"__proto__"` or `"constructor"` key
 * is kept as the own data property `JSON.parse` makes of it, so that `validateWorkflow` can answer
 * 400 naming the step and the field; everywhere else Fastify's default parser refuses such a body
 * outright. (An own `__proto__` data property pollutes nothing; only assigning it does, and these
 * bodies are validated before anything copies them.)
 */
const DEFINITION_ROUTES = /^\/api\/v1\/(workflows|executions)(\/|\?|$)/;

/** Installs the JSON body parser described above; call before the app initialises. */
export function installJsonParser(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const strict = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit }, (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (!DEFINITION_ROUTES.test(req.url)) {
      strict(req, body as unknown as string, done); // it accepts a Buffer too, as Nest's own parser relies on
      return;
    }
    const text = body.toString('utf8');
    if (text.length === 0) {
      done(Object.assign(new Error("Body cannot be empty when content-type is set to 'application/json'"), { statusCode: 400, code: 'FST_ERR_CTP_EMPTY_JSON_BODY' }));
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Object.assign(err as Error, { statusCode: 400 }));
    }
  });
}

/** Deepest nesting walked when looking for prototype keys in a run's input. */
const MAX_INPUT_DEPTH = 64;

/**
 * The path of the first prototype key (`__proto__`, `constructor`, `prototype`) in `value`, or of
 * nesting past MAX_INPUT_DEPTH; undefined when there is none. Iterative, so depth cannot overflow.
 */
export function findUnsafeKey(value: unknown, root: string): { field: string; message: string } | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_INPUT_DEPTH) return { field: path, message: `nested deeper than ${MAX_INPUT_DEPTH} levels` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(v)) {
      if (isForbiddenKey(key)) return { field: `${path}.${key}`, message: `"${key}" is not allowed as a key` };
      stack.push({ v: (v as Record<string, unknown>)[key], path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}
