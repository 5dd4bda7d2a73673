/**
 * What the generator adds around the LLM call, and how fast the offline planner drafts with a
 * large catalog. `node bench/dist/generator.bench.js --help` explains the phases.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { Collections } from '@toolpath/contracts';
import { ToolRegistry } from '@toolpath/sdk';
import { createTestEventsStream, fakeReply, isolatedEnv, startFakeOpenAiServer, startService, type FakeOpenAiServer } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { CpuShare } from './lib/machine';
import { Cleanup, connectInfra, describeInfra, phaseNames, progress } from './lib/pipeline';
import { Report, quantile } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/generator.bench.js',
  description: `
POST /api/v1/workflows/generate through a real gateway and a real generator (processes started
from apps/*/dist) on a catalog of --workflows workflows and a registry of 40 tools.
 1. LLM path: the generator talks to a local scripted chat-completions server that answers at
    once with a valid draft. Overhead = whole request time - the time the generator spent in the
    model call (its llmMs: the HTTP exchange with the fake server). Beside it, the same request
    body sent straight to the fake server (the floor of the model call itself), alternating one
    by one. Target: overhead p50 <= 50 ms.
 2. Offline path: constraints.offline (no model), prompts that match seeded workflows, templates
    or tools. The first request loads the tenant's catalog snapshot (reported apart); the figure
    is the warm request time. Baseline: GET /api/v1/workflows/templates on the same gateway (HTTP
    and auth, no database). Target: p95 <= 100 ms.`,
  options: {
    samples: { kind: 'int', default: 150, help: 'timed requests per phase' },
    warmup: { kind: 'int', default: 15, help: 'untimed requests per phase first' },
    workflows: { kind: 'int', default: 10_000, help: "workflows in the tenant's catalog" },
    maxMinutes: { kind: 'number', default: 10, help: 'abort (and clean up) after this long' },
  },
});

const KEY = 'bench-generator-key-0123456789';
const TENANT = 'bench';
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

interface Answer {
  status: number;
  ms: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function call(url: string, method: 'GET' | 'POST', auth: string, body?: Buffer): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const t0 = performance.now();
    const headers: Record<string, string | number> = { authorization: auth };
    if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
    const req = request(url, { method, agent, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // kept as text
        }
        resolve({ status: res.statusCode ?? 0, ms, body: parsed });
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('bench request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const p = (xs: number[], q: number) => quantile(sorted(xs), q);
const r2 = (n: number) => Math.round(n * 100) / 100;

const VERBS = ['sync', 'deploy', 'backup', 'rotate', 'archive', 'review', 'notify', 'import', 'export', 'refund', 'invoice', 'translate', 'scan', 'index', 'restart'];
const OBJECTS = ['customers', 'orders', 'invoices', 'database', 'service', 'tickets', 'images', 'reports', 'credentials', 'logs', 'releases', 'documents'];
const SYSTEMS = ['github', 'slack', 'jira', 'stripe', 'postgres', 's3', 'k8s', 'docker', 'mail', 'crm'];
const ACTIONS = ['get', 'list', 'create', 'update', 'delete', 'post', 'send', 'apply', 'dump', 'check'];
const TOOL_NAMES = SYSTEMS.flatMap((s) => ACTIONS.slice(0, 4).map((a) => `${s}.${a}`));

/** Deterministic pseudo-random catalog rows in the gateway's shape. */
function catalogRows(n: number): Record<string, unknown>[] {
  let seed = 42;
  const rnd = (k: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const verb = VERBS[rnd(VERBS.length)];
    const object = OBJECTS[rnd(OBJECTS.length)];
    const system = SYSTEMS[rnd(SYSTEMS.length)];
    const steps = Array.from({ length: 2 + rnd(4) }, (_, s) => ({
      id: `s${s}`,
      tool: `${SYSTEMS[(rnd(SYSTEMS.length) + s) % SYSTEMS.length]}.${ACTIONS[rnd(ACTIONS.length)]}`,
      parameters: { target: `{{ input.${object} }}` },
      ...(s > 0 ? { dependsOn: [`s${s - 1}`] } : {}),
    }));
    const id = `wf_bench_${i}`;
    const definition = { id, name: `${verb} ${object} via ${system} #${i}`, description: `${verb}s the ${object} in ${system} and reports`, category: verb, tags: [system, object], source: i % 3 === 0 ? 'learned' : 'user', steps };
    const at = new Date(now - i * 1000);
    return { _id: `${TENANT}:${id}`, tenantId: TENANT, id, version: 1, definition, tools: [...new Set(steps.map((s) => s.tool))], createdAt: at, updatedAt: at };
  });
}

const OFFLINE_PROMPTS = [
  'rotate the database credentials and restart the service',
  'backup postgres invoices to s3',
  'review github releases and notify slack',
  'deploy the service with docker and k8s to three regions',
  'ask an approver for approval then notify',
  'import customers from the crm into postgres',
  'search the web and a knowledge base and email a report',
  'translate documents and post them to slack',
  'archive closed jira tickets',
  'refund stripe orders and send mail to customers',
];

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  cleanup.guard(cli.maxMinutes * 60_000, 'generator.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('generator', { samples: cli.samples, warmup: cli.warmup, workflows: cli.workflows, tools: TOOL_NAMES.length });

  try {
    const names = phaseNames('generator', infra, cleanup);
    await createTestEventsStream(infra.nc, names);
    const registry = new ToolRegistry(infra.nc, names.subjectPrefix);
    cleanup.add(`delete KV ${registry.bucket}`, async () => (await infra.nc.jetstreamManager()).streams.delete(`KV_${registry.bucket}`));
    for (const name of TOOL_NAMES) {
      await registry.announce({ name, description: `${name.split('.')[1]} in ${name.split('.')[0]}`, inputSchema: { type: 'object', properties: { target: { type: 'string' } }, required: ['target'] } });
    }
    progress(`seeding ${cli.workflows} catalog workflows`);
    const rows = catalogRows(cli.workflows);
    const col = infra.mongo.db(names.mongoDb).collection(Collections.workflows);
    for (let i = 0; i < rows.length; i += 1000) await col.insertMany(rows.slice(i, i + 1000) as never[], { ordered: false });

    const answer = fakeReply.json({
      explanation: 'reads the orders, then posts a summary',
      workflow: {
        name: 'Summarise orders',
        description: 'List orders and post the count',
        steps: [
          { id: 'orders', tool: 'stripe.list', parameters: { target: 'orders' } },
          { id: 'post', tool: 'slack.create', dependsOn: ['orders'], parameters: { target: '{{ steps.orders.result.count }}' } },
        ],
        source: 'generated',
      },
      missingTools: [],
      reusedWorkflowIds: ['wf_bench_1'],
    });
    const llm: FakeOpenAiServer = await startFakeOpenAiServer({ fallback: answer, recordLimit: 5 });
    cleanup.add('close fake LLM', () => llm.close());
    const env = { ...isolatedEnv(names), LOG_LEVEL: 'warn' };
    progress('starting the generator and the gateway');
    const generator = await startService('generator', { ...env, OPENAI_BASE_URL: llm.baseURL, OPENAI_API_KEY: 'sk-bench', OPENAI_MODEL: 'bench-model', GENERATOR_CATALOG_TTL_MS: '600000' });
    cleanup.add(`stop generator pid ${generator.proc.pid}`, () => generator.stop());
    const gateway = await startService('gateway', { ...env, TOOLPATH_API_KEYS: `${KEY}:${TENANT}` });
    cleanup.add(`stop gateway pid ${gateway.proc.pid}`, () => gateway.stop());
    report.setMachine(await describeInfra(infra));
    const cpu = new CpuShare({ gateway: gateway.proc.pid, generator: generator.proc.pid, bench: process.pid });

    const base = `http://127.0.0.1:${gateway.port}/api/v1`;
    const auth = `Bearer ${KEY}`;
    const generate = (prompt: string, offline = false) =>
      call(`${base}/workflows/generate`, 'POST', auth, Buffer.from(JSON.stringify({ prompt, ...(offline ? { constraints: { offline: true } } : {}) })));

    // The first request of a tenant loads its catalog snapshot (a scan of the catalog).
    const cold = await generate('sync orders to slack');
    if (cold.status !== 200) throw new Error(`generate answered ${cold.status}: ${JSON.stringify(cold.body).slice(0, 500)}`);
    report.details.coldFirstRequestMs = r2(cold.ms);
    // Until the tenant's snapshot is loaded, drafts are made without the catalog (and say so).
    const loadStarted = performance.now() - cold.ms;
    for (;;) {
      const probe = await generate('sync orders to slack', true);
      if (probe.status === 200 && !probe.body.warnings.some((w: string) => w.includes('still being loaded'))) break;
      if (performance.now() - loadStarted > 300_000) throw new Error('the catalog snapshot did not load within 5 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    report.details.catalogLoadMs = r2(performance.now() - loadStarted);
    report.details.systemPromptBytes = Buffer.byteLength(llm.chatRequests().at(-1)?.rawBody ?? '');

    progress(`LLM path: ${cli.warmup} warm-up + ${cli.samples} timed pairs`);
    const directBody = Buffer.from(llm.chatRequests().at(-1)!.rawBody);
    const totals: number[] = [];
    const overheads: number[] = [];
    const generatorOwn: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < cli.warmup + cli.samples; i++) {
      const order = i % 2 === 0 ? ['g', 'd'] : ['d', 'g'];
      for (const which of order) {
        if (which === 'd') {
          const d = await call(`${llm.baseURL}/chat/completions`, 'POST', 'Bearer sk-bench', directBody);
          if (i >= cli.warmup) direct.push(d.ms);
          continue;
        }
        const g = await generate(`summarise the orders of customer ${i} in slack`);
        if (g.status !== 200) throw new Error(`generate answered ${g.status}: ${JSON.stringify(g.body).slice(0, 500)}`);
        if (i >= cli.warmup) {
          totals.push(g.ms);
          overheads.push(g.ms - g.body.llmMs);
          generatorOwn.push(g.body.durationMs - g.body.llmMs);
        }
      }
    }
    report.add({
      name: 'generation overhead outside the LLM call p50',
      value: r2(p(overheads, 0.5)),
      unit: 'ms',
      baseline: { name: 'direct call to the fake LLM p50', value: r2(p(direct, 0.5)), unit: 'ms' },
      target: { on: 'value', op: '<=', value: 50 },
      note: `p95 ${r2(p(overheads, 0.95))} ms; whole request p50 ${r2(p(totals, 0.5))} ms; inside the generator (excluding the model call) p50 ${r2(p(generatorOwn, 0.5))} ms, the rest is storing the generation, NATS, the gateway and HTTP`,
    });

    progress(`offline path: ${cli.warmup} warm-up + ${cli.samples} timed pairs`);
    const offline: number[] = [];
    const offlineOwn: number[] = [];
    const list: number[] = [];
    const kinds: Record<string, number> = {};
    for (let i = 0; i < cli.warmup + cli.samples; i++) {
      const o = await generate(OFFLINE_PROMPTS[i % OFFLINE_PROMPTS.length], true);
      if (o.status !== 200) throw new Error(`offline generate answered ${o.status}: ${JSON.stringify(o.body).slice(0, 500)}`);
      const l = await call(`${base}/workflows/templates`, 'GET', auth);
      if (l.status !== 200) throw new Error(`list answered ${l.status}`);
      if (i >= cli.warmup) {
        offline.push(o.ms);
        offlineOwn.push(o.body.durationMs);
        list.push(l.ms);
        const kind = o.body.reusedWorkflows.length ? 'catalog' : /template/.test(o.body.explanation) ? 'template' : 'tools';
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
    }
    report.add({
      name: `offline draft p95 with ${cli.workflows} workflows`,
      value: r2(p(offline, 0.95)),
      unit: 'ms',
      baseline: { name: 'GET /workflows/templates p95', value: r2(p(list, 0.95)), unit: 'ms' },
      target: { on: 'value', op: '<=', value: 100 },
      note: `p50 ${r2(p(offline, 0.5))} ms (templates list p50 ${r2(p(list, 0.5))} ms); planning inside the generator p50 ${r2(p(offlineOwn, 0.5))} ms, p95 ${r2(p(offlineOwn, 0.95))} ms (the rest: storing the generation, NATS, gateway, HTTP); drafts from ${JSON.stringify(kinds)}`,
    });
    report.details.offlineDraftSources = kinds;
    report.details.cpuShare = cpu.finish();
    report.note(
      `first request of the tenant: ${report.details.coldFirstRequestMs} ms (it waits at most GENERATOR_CATALOG_WAIT_MS for the catalog); loading and indexing the snapshot of ${cli.workflows} workflows took ${report.details.catalogLoadMs} ms; timed requests use the snapshot (refreshed in the background after GENERATOR_CATALOG_TTL_MS)`,
    );
    report.note(`model request body ${report.details.systemPromptBytes} bytes (rules, ${TOOL_NAMES.length + 4} tools, 20 workflows, templates, task)`);
  } finally {
    await cleanup.run();
    agent.destroy();
  }
  report.print();
  report.write(cli.json);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
