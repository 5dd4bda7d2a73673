/**
 * Overhead of the recording MCP gateway beside calling the same upstream MCP server directly.
 * `node bench/dist/mcp-gateway.bench.js --help` explains the phases.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { NatsConnection } from 'nats';
import { createTestEventsStream, isolatedEnv, startService } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { CpuShare, cpuSeconds } from './lib/machine';
import { Cleanup, connectInfra, describeInfra, phaseNames, progress, scrapeMetrics, sleep } from './lib/pipeline';
import { Report, quantile } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/mcp-gateway.bench.js',
  description: `
A tools/call of the project's test MCP server (libs/mcp/test/fixtures/test-mcp-server.js, tool
"echo") made with the official SDK client in two ways: through the gateway's /mcp (a real
gateway process started from apps/gateway/dist, recording on: every call becomes a tool-call
event on NATS) as "<server>__echo", and straight to the upstream server as "echo". Calls
alternate between the two paths one by one, each on one long-lived MCP session, so load from
other work on the machine falls on both alike.
 1. upstream over streamable HTTP: one server process both paths call;
 2. upstream over stdio: the gateway's own child process, and the bench's own.
Figure: overhead p50 = p50(through the gateway) - p50(direct), target <= 3 ms for both.
The median of the per-pair differences is shown as a cross-check.
Profiling: --cpu-prof-dir DIR writes the gateway's CPU profile there when it stops
(bench/lib/cpu-profile-preload.ts).`,
  options: {
    cpuProfDir: { kind: 'string', default: '', help: "write the gateway's CPU profile into this directory" },
    samples: { kind: 'int', default: 1000, help: 'timed calls per path and transport' },
    warmup: { kind: 'int', default: 200, help: 'untimed calls per path and transport first' },
    maxMinutes: { kind: 'number', default: 8, help: 'abort (and clean up) after this long' },
  },
});

const TARGET_MS = 3;
const KEY = 'bench-mcp-gateway-key-0123456789';
const TEST_MCP_SERVER = join(__dirname, '..', '..', 'libs', 'mcp', 'test', 'fixtures', 'test-mcp-server.js');

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const p = (xs: number[], q: number) => quantile(sorted(xs), q);
const r2 = (n: number) => Math.round(n * 100) / 100;

/** The test server over streamable HTTP, in a process of its own. */
async function startHttpUpstream(cleanup: Cleanup): Promise<string> {
  const proc = spawn(process.execPath, [TEST_MCP_SERVER, '--http'], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.add(`stop the HTTP test MCP server pid ${proc.pid}`, async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  });
  let out = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the HTTP test MCP server did not start: ${out}`)), 10_000);
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`the HTTP test MCP server exited (${code})`)));
  });
}

async function client(transport: Transport, cleanup: Cleanup, label: string): Promise<Client> {
  const c = new Client({ name: `bench-${label}`, version: '1.0.0' });
  await c.connect(transport, { timeout: 15_000 });
  cleanup.add(`close the ${label} client`, () => c.close());
  return c;
}

async function timedCall(c: Client, name: string, i: number): Promise<number> {
  const t0 = performance.now();
  const r = (await c.callTool({ name, arguments: { text: `bench ${i}` } }, undefined, { timeout: 10_000 })) as CallToolResult;
  const ms = performance.now() - t0;
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  return ms;
}

/** durationMs of every recorded tool call in the stream, by tool. */
async function recordedDurations(nc: NatsConnection, stream: string, count: number): Promise<Record<string, number[]>> {
  const consumer = await nc.jetstream().consumers.get(stream);
  const out: Record<string, number[]> = {};
  let seen = 0;
  while (seen < count) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, count - seen), expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      const e = m.json<{ kind: string; tool?: string; durationMs: number }>();
      if (e.kind === 'tool_call' && e.tool) (out[e.tool] ??= []).push(e.durationMs);
    }
    if (got === 0) break;
    seen += got;
  }
  return out;
}

async function main(): Promise<void> {
  const limitMs = cli.maxMinutes * 60_000;
  const cleanup = new Cleanup();
  cleanup.guard(limitMs, 'mcp-gateway.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('mcp-gateway', { samples: cli.samples, warmup: cli.warmup });

  try {
    const names = phaseNames('mcpgw', infra, cleanup);
    await createTestEventsStream(infra.nc, names);
    const upstreamUrl = await startHttpUpstream(cleanup);
    progress('starting the gateway');
    const gateway = await startService('gateway', {
      ...isolatedEnv(names),
      LOG_LEVEL: 'warn',
      ...(cli.cpuProfDir ? { NODE_OPTIONS: `--require ${resolve(__dirname, 'lib', 'cpu-profile-preload.js')}`, TOOLPATH_CPU_PROF_DIR: resolve(cli.cpuProfDir) } : {}),
      TOOLPATH_API_KEYS: `${KEY}:bench`,
      TOOLPATH_MCP_SERVERS: JSON.stringify([
        { name: 'web', transport: 'http', url: upstreamUrl },
        { name: 'local', transport: 'stdio', command: process.execPath, args: [TEST_MCP_SERVER] },
      ]),
    });
    cleanup.add(`stop gateway pid ${gateway.proc.pid}`, () => gateway.stop());
    report.setMachine(await describeInfra(infra));

    const viaGateway = await client(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gateway.port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }),
      cleanup,
      'gateway',
    );
    const directHttp = await client(new StreamableHTTPClientTransport(new URL(upstreamUrl)), cleanup, 'direct-http');
    const directStdio = await client(new StdioClientTransport({ command: process.execPath, args: [TEST_MCP_SERVER], stderr: 'inherit' }), cleanup, 'direct-stdio');
    const listed = (await viaGateway.listTools()).tools.map((t) => t.name);
    for (const needed of ['web__echo', 'local__echo']) if (!listed.includes(needed)) throw new Error(`the gateway does not list ${needed}: ${listed.join(', ')}`);

    const cpu = new CpuShare({ gateway: gateway.proc.pid, bench: process.pid });
    const gatewayCpuStart = cpuSeconds(gateway.proc.pid!) ?? 0;
    let gatewayCalls = 0;

    for (const [transport, direct, name] of [
      ['streamable HTTP', directHttp, 'web__echo'],
      ['stdio', directStdio, 'local__echo'],
    ] as const) {
      progress(`upstream over ${transport}: ${cli.warmup} warm-up + ${cli.samples} timed calls per path`);
      const d: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < cli.warmup + cli.samples; i++) {
        // Alternate which path goes first, so neither always follows the other.
        const order = i % 2 === 0 ? (['d', 'v'] as const) : (['v', 'd'] as const);
        for (const which of order) {
          const ms = which === 'd' ? await timedCall(direct, 'echo', i) : await timedCall(viaGateway, name, i);
          if (which === 'v') gatewayCalls++;
          if (i >= cli.warmup) (which === 'd' ? d : v).push(ms);
        }
      }
      const pairDiff = v.map((x, i) => x - d[i]);
      report.add({
        name: `tools/call p50 through the gateway (upstream over ${transport})`,
        value: r2(p(v, 0.5)),
        unit: 'ms',
        baseline: { name: 'straight to the upstream', value: r2(p(d, 0.5)), unit: 'ms' },
      });
      report.add({
        name: `gateway overhead p50 (upstream over ${transport})`,
        value: r2(p(v, 0.5) - p(d, 0.5)),
        unit: 'ms',
        baseline: { name: 'direct tools/call p50', value: r2(p(d, 0.5)), unit: 'ms' },
        target: { on: 'value', op: '<=', value: TARGET_MS },
        note: `median of per-pair differences ${r2(p(pairDiff, 0.5))} ms; p95 ${r2(p(v, 0.95))} ms vs ${r2(p(d, 0.95))} ms direct`,
      });
    }
    const gatewayCpu = (cpuSeconds(gateway.proc.pid!) ?? 0) - gatewayCpuStart;
    report.details.cpuShare = cpu.finish();
    report.details.gatewayCpuMsPerCall = r2((gatewayCpu * 1000) / gatewayCalls);
    report.note(`gateway CPU per call (MCP session, forward, record): ${report.details.gatewayCpuMsPerCall} ms`);

    // Every call was recorded: the gateway counted it, and its event reached the stream.
    await sleep(500);
    const metrics = await scrapeMetrics(gateway.port);
    const counted = [...metrics.entries()].filter(([k]) => k.startsWith('toolpath_gateway_mcp_gateway_calls_total{') && k.includes('outcome="ok"')).reduce((n, [, v]) => n + v, 0);
    const jsm = await infra.nc.jetstreamManager();
    const inStream = (await jsm.streams.info(names.stream)).state.messages;
    report.details.recordedCalls = counted;
    report.details.eventsInStream = inStream;
    report.note(`calls recorded by the gateway: ${counted} of ${gatewayCalls}; tool-call events in the stream: ${inStream}`);
    if (counted !== gatewayCalls || inStream < gatewayCalls) throw new Error(`not every call was recorded: ${counted} counted, ${inStream} events for ${gatewayCalls} calls`);

    // The upstream call as the gateway timed it (the events' durationMs): what is left of the
    // overhead is the hop from the client to the gateway and back.
    const durations = await recordedDurations(infra.nc, names.stream, inStream);
    for (const [tool, ms] of Object.entries(durations)) {
      report.note(`${tool}: upstream call p50 inside the gateway ${r2(p(ms, 0.5))} ms (${ms.length} recorded calls, warm-up included)`);
    }
  } finally {
    await cleanup.run();
  }
  report.print();
  report.write(cli.json);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
