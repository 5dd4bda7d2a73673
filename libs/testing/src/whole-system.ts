import { connectTestNats, createTestEventsStream, dropTestResources, isolatedEnv, testNames, type TestNames } from './isolation';
import { startFakeOpenAiServer, type FakeOpenAiServerOptions, type FakeOpenAiServer } from './fake-openai-server';
import { startService, type ServiceProcess } from './processes';

/** The five apps from dist on the shared servers, under names of their own, with a fake LLM. */
export interface WholeSystem {
  readonly names: TestNames;
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly base: string;
  readonly apiKey: string;
  readonly llm: FakeOpenAiServer;
  readonly apps: ServiceProcess[];
  /** A REST call with the system's key; a non-2xx answer throws with its status and body. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON answers, as test files may
  rest(method: string, path: string, body?: unknown): Promise<any>;
  /** Stops the apps and the fake LLM, and removes the stream and the database. */
  stop(): Promise<void>;
}

export interface WholeSystemOptions {
  /** Names the stream, subjects and database (see `testNames`). */
  label: string;
  apiKey: string;
  tenantId: string;
  /** What the fake LLM answers when nothing is queued. */
  llmFallback: FakeOpenAiServerOptions['fallback'];
  /** Settings beyond the isolated names, the key and the LLM's. */
  env?: Record<string, string>;
}

/**
 * Starts recorder, analyzer, executor and generator side by side (they are independent), then
 * the gateway (it reports the others' health). The events stream is memory-backed, as every
 * test's is. On a failure what was started is stopped.
 */
export async function startWholeSystem(opts: WholeSystemOptions): Promise<WholeSystem> {
  const names = testNames(opts.label);
  const nc = await connectTestNats();
  try {
    await createTestEventsStream(nc, names);
  } finally {
    await nc.close();
  }
  const llm = await startFakeOpenAiServer({ fallback: opts.llmFallback });
  const apps: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await llm.close();
    await dropTestResources(names);
  };
  try {
    const env = {
      ...isolatedEnv(names),
      TOOLPATH_API_KEYS: `${opts.apiKey}:${opts.tenantId}`,
      OPENAI_BASE_URL: llm.baseURL,
      OPENAI_API_KEY: 'fake-upstream-key',
      OPENAI_MODEL: 'fake-model',
      ...opts.env,
    };
    await Promise.all((['recorder', 'analyzer', 'executor', 'generator'] as const).map(async (a) => apps.push(await startService(a, env))));
    apps.push(await startService('gateway', env));
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const base = `http://127.0.0.1:${apps[apps.length - 1].port}`;
  const headers = { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' };
  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return { names, base, apiKey: opts.apiKey, llm, apps, rest, stop };
}

/**
 * `count` sessions of the same `tools` with `intent`, sent over REST ten minutes back, then the
 * analyzer run until it lists a pattern (bounded): the learning routes then answer with data.
 */
export async function seedRecurringSessions(system: WholeSystem, opts: { tools: string[]; sessionPrefix: string; intent: string; count?: number }): Promise<void> {
  const t0 = Date.now() - 600_000;
  const events = Array.from({ length: opts.count ?? 12 }, (_, i) => [
    ...opts.tools.map((tool, seq) => ({ kind: 'tool_call', sessionId: `${opts.sessionPrefix}-${i}`, seq, tool, parameters: { order: `o-${i}` }, result: { ok: true }, success: true, startedAt: t0 + i * 1000 + seq * 10, durationMs: 5 + seq, userId: 'ann' })),
    { kind: 'session_end', sessionId: `${opts.sessionPrefix}-${i}`, seq: opts.tools.length, success: true, startedAt: t0 + i * 1000, durationMs: 50, intent: opts.intent },
  ]).flat();
  await system.rest('POST', '/api/v1/events', events);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await system.rest('POST', '/api/v1/analyzer/runs', { waitMs: 10_000 });
    if (((await system.rest('GET', '/api/v1/patterns')).items?.length ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('no pattern was learned from the seeded sessions');
}
