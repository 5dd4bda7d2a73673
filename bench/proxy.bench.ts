/**
 * Overhead of the gateway's OpenAI-compatible proxy beside calling the same upstream directly.
 * `node bench/dist/proxy.bench.js --help` explains the phases.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { createTestEventsStream, fakeReply, isolatedEnv, startFakeOpenAiServer, startService, type FakeOpenAiServer } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { CpuShare, cpuSeconds } from './lib/machine';
import { Cleanup, connectInfra, describeInfra, phaseNames, progress } from './lib/pipeline';
import { Report, quantile } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/proxy.bench.js',
  description: `
POST /v1/chat/completions through the gateway (a real process started from apps/gateway/dist,
recording on: every answer becomes events on NATS) against the same request sent straight to the
upstream, a local scripted chat-completions server in this process. Requests alternate between
the two paths one by one (one at a time, keep-alive sockets on both), so load from other work on
the machine falls on both alike.
 1. non-streaming: time until the whole JSON answer is read;
 2. streaming: time to the first byte of the SSE body (the client sees the model start), and
    until [DONE].
Figure: overhead p50 = p50(through the proxy) - p50(direct), target <= 5 ms for both modes.
The median of the per-pair differences is shown as a cross-check.`,
  options: {
    samples: { kind: 'int', default: 1500, help: 'timed requests per path and mode' },
    warmup: { kind: 'int', default: 200, help: 'untimed requests per path and mode first' },
    chunks: { kind: 'int', default: 20, help: 'SSE chunks in each streamed answer' },
    maxMinutes: { kind: 'number', default: 8, help: 'abort (and clean up) after this long' },
  },
});

const TARGET_MS = 5;
const KEY = 'bench-proxy-key-0123456789';
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

interface Timing {
  firstByteMs: number;
  totalMs: number;
}

/** One POST, timed to the first body byte and to the end. */
function timedPost(url: string, body: Buffer, auth: string): Promise<Timing> {
  return new Promise<Timing>((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: auth } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`${url} answered ${res.statusCode}`));
          return;
        }
        res.on('data', () => {
          if (!first) first = performance.now();
        });
        res.on('end', () => resolve({ firstByteMs: first - t0, totalMs: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('bench request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const p = (xs: number[], q: number) => quantile(sorted(xs), q);
const r2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'proxy.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('proxy', { samples: cli.samples, warmup: cli.warmup, chunks: cli.chunks });

  try {
    const names = phaseNames('proxy', infra, cleanup);
    await createTestEventsStream(infra.nc, names);
    const words = Array.from({ length: cli.chunks }, (_, i) => `word${i}`).join(' ');
    const upstream: FakeOpenAiServer = await startFakeOpenAiServer({ fallback: fakeReply.text(words), recordLimit: 10 });
    cleanup.add('close fake upstream', () => upstream.close());
    progress('starting the gateway');
    const gateway = await startService('gateway', {
      ...isolatedEnv(names),
      LOG_LEVEL: 'warn',
      TOOLPATH_API_KEYS: `${KEY}:bench`,
      OPENAI_BASE_URL: upstream.baseURL,
      OPENAI_MODEL: 'bench-model',
    });
    cleanup.add(`stop gateway pid ${gateway.proc.pid}`, () => gateway.stop());
    report.setMachine(await describeInfra(infra));

    const direct = `${upstream.baseURL}/chat/completions`;
    const proxied = `http://127.0.0.1:${gateway.port}/v1/chat/completions`;
    const auth = `Bearer ${KEY}`;
    const cpu = new CpuShare({ gateway: gateway.proc.pid, bench: process.pid });
    const gatewayCpuStart = cpuSeconds(gateway.proc.pid!) ?? 0;
    let proxiedRequests = 0;

    for (const stream of [false, true]) {
      const mode = stream ? 'streaming' : 'non-streaming';
      const body = (i: number) =>
        Buffer.from(JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: `bench request ${i}` }] }));
      progress(`${mode}: ${cli.warmup} warm-up + ${cli.samples} timed requests per path`);
      const d: Timing[] = [];
      const v: Timing[] = [];
      for (let i = 0; i < cli.warmup + cli.samples; i++) {
        // Alternate which path goes first, so neither always follows the other.
        const order = i % 2 === 0 ? (['d', 'v'] as const) : (['v', 'd'] as const);
        for (const which of order) {
          const t = which === 'd' ? await timedPost(direct, body(i), 'Bearer none') : await timedPost(proxied, body(i), auth);
          if (which === 'v') proxiedRequests++;
          if (i >= cli.warmup) (which === 'd' ? d : v).push(t);
        }
      }
      const metric = (t: Timing) => (stream ? t.firstByteMs : t.totalMs);
      const dm = d.map(metric);
      const vm = v.map(metric);
      const pairDiff = vm.map((x, i) => x - dm[i]);
      const what = stream ? 'time to first byte' : 'response time';
      report.add({
        name: `${mode} ${what} p50 through the proxy`,
        value: r2(p(vm, 0.5)),
        unit: 'ms',
        baseline: { name: 'direct to the upstream', value: r2(p(dm, 0.5)), unit: 'ms' },
      });
      report.add({
        name: `${mode} proxy overhead p50`,
        value: r2(p(vm, 0.5) - p(dm, 0.5)),
        unit: 'ms',
        baseline: { name: `direct ${what} p50`, value: r2(p(dm, 0.5)), unit: 'ms' },
        target: { on: 'value', op: '<=', value: TARGET_MS },
        note: `median of per-pair differences ${r2(p(pairDiff, 0.5))} ms; p95 ${r2(p(vm, 0.95))} ms vs ${r2(p(dm, 0.95))} ms direct`,
      });
      if (stream) {
        const dt = d.map((t) => t.totalMs);
        const vt = v.map((t) => t.totalMs);
        report.add({
          name: 'streaming time to [DONE] p50 through the proxy',
          value: r2(p(vt, 0.5)),
          unit: 'ms',
          baseline: { name: 'direct to the upstream', value: r2(p(dt, 0.5)), unit: 'ms' },
        });
      }
    }
    const gatewayCpu = (cpuSeconds(gateway.proc.pid!) ?? 0) - gatewayCpuStart;
    report.details.cpuShare = cpu.finish();
    report.details.gatewayCpuMsPerRequest = r2((gatewayCpu * 1000) / proxiedRequests);
    report.note(`gateway CPU per proxied request (parse, forward, follow the stream, record): ${report.details.gatewayCpuMsPerRequest} ms`);
    report.note('the upstream answers at once; with a real model the same overhead sits beside hundreds of milliseconds of generation');
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
