/**
 * OTLP ingest of execute_tool spans beside REST batch ingest of the same events.
 * `node bench/dist/otlp-ingest.bench.js --help` explains the phases.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { encodeTraceRequestProtobuf } from '@toolpath/otlp-mapping';
import { createTestEventsStream, isolatedEnv, startService } from '@toolpath/testing';
import { parseCli } from './lib/cli';
import { CpuShare } from './lib/machine';
import { Cleanup, connectInfra, describeInfra, phaseNames, progress } from './lib/pipeline';
import { Report } from './lib/report';

const cli = parseCli({
  usage: 'node bench/dist/otlp-ingest.bench.js',
  description: `
Tool-call events into one gateway process (apps/gateway/dist), each accepted once the events
stream has acknowledged it, in two ways:
 - OTLP: POST /v1/traces, protobuf ExportTraceServiceRequests of execute_tool spans (tool name,
   arguments, result, conversation id, agent), as an OpenTelemetry SDK's batch exporter sends them;
 - REST: POST /api/v1/events, JSON arrays of the same events (the baseline).
Both paths get the same number of events per request and the same number of requests in flight;
rounds alternate between them (which goes first alternates too), so load from other work on the
machine falls on both alike. Every round uses new span and event ids (nothing is a duplicate).
Figure: events/s through OTLP vs REST, target ratio >= 0.6. The same for OTLP/JSON is shown
beside it, without a target.`,
  options: {
    events: { kind: 'int', default: 20_000, help: 'events per round and path' },
    rounds: { kind: 'int', default: 3, help: 'timed rounds per path' },
    batch: { kind: 'int', default: 500, help: 'events (spans) per request' },
    concurrency: { kind: 'int', default: 4, help: 'requests in flight per path' },
    maxMinutes: { kind: 'number', default: 8, help: 'abort (and clean up) after this long' },
  },
});

const TARGET_RATIO = 0.6;
const KEY = 'bench-otlp-key-0123456789';
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const NOW_MS = Date.parse('2026-11-21T10:00:00.000Z');

/** What one event says, whichever way it goes in. */
interface Call {
  traceHex: string;
  spanHex: string;
  tool: string;
  args: Record<string, unknown>;
  result: Record<string, unknown>;
  conversation: string;
  startMs: number;
  durationMs: number;
}

function calls(round: string, count: number): Call[] {
  return Array.from({ length: count }, (_, i) => ({
    traceHex: `${round}${Math.floor(i / 8).toString(16)}`.padStart(32, '0').slice(-32),
    spanHex: (i + 1).toString(16).padStart(16, '0'),
    tool: ['orders.get', 'payments.refund', 'crm.lookup', 'kb.search'][i % 4],
    args: { id: i, region: 'eu-west', note: 'ship to the usual address' },
    result: { ok: true, items: [i, i + 1], status: 'done' },
    conversation: `conv-${round}-${Math.floor(i / 8)}`,
    startMs: NOW_MS + i,
    durationMs: 12,
  }));
}

function otlpBody(batch: Call[], json: boolean): Buffer {
  const spans = batch.map((c) => ({
    traceId: json ? c.traceHex : Buffer.from(c.traceHex, 'hex'),
    spanId: json ? c.spanHex : Buffer.from(c.spanHex, 'hex'),
    name: `execute_tool ${c.tool}`,
    kind: 1,
    startTimeUnixNano: String(BigInt(c.startMs) * 1_000_000n),
    endTimeUnixNano: String(BigInt(c.startMs + c.durationMs) * 1_000_000n),
    attributes: [
      ['gen_ai.operation.name', 'execute_tool'],
      ['gen_ai.tool.name', c.tool],
      ['gen_ai.tool.call.arguments', JSON.stringify(c.args)],
      ['gen_ai.tool.call.result', JSON.stringify(c.result)],
      ['gen_ai.conversation.id', c.conversation],
      ['gen_ai.agent.name', 'bench-agent'],
    ].map(([key, value]) => ({ key, value: { stringValue: value } })),
  }));
  const request = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] }, scopeSpans: [{ spans }] }] };
  return json ? Buffer.from(JSON.stringify(request)) : Buffer.from(encodeTraceRequestProtobuf(request));
}

function restBody(batch: Call[], round: string): Buffer {
  return Buffer.from(
    JSON.stringify(
      batch.map((c) => ({
        kind: 'tool_call',
        eventId: `rest-${round}-${c.traceHex}-${c.spanHex}`,
        sessionId: c.conversation,
        tool: c.tool,
        parameters: c.args,
        result: c.result,
        success: true,
        startedAt: c.startMs,
        durationMs: c.durationMs,
        agentId: 'bench-agent',
        source: 'rest',
      })),
    ),
  );
}

function post(url: string, body: Buffer, contentType: string): Promise<{ status: number; text: string; otlp?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length, authorization: `Bearer ${KEY}` } }, (res: IncomingMessage) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, otlp: res.headers['x-toolpath-otlp'] as string | undefined }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('bench request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

type Path = 'otlp' | 'otlp-json' | 'rest';

/** Sends the bodies with `concurrency` in flight; checks every answer accepted all its events; events/s. */
async function timedRound(url: string, bodies: Buffer[], contentType: string, eventsPerBody: number[], path: Path): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const r = await post(url, bodies[i], contentType);
      const ok = path === 'rest' ? r.status === 202 && JSON.parse(r.text).accepted === eventsPerBody[i] : r.status === 200 && r.otlp?.includes(`events=${eventsPerBody[i]};`) && r.otlp.includes('rejected=0');
      if (!ok) throw new Error(`${path}: request ${i} answered ${r.status} ${r.otlp ?? ''} ${r.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: cli.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return eventsPerBody.reduce((a, b) => a + b, 0) / seconds;
}

function batches<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  cleanup.guard(cli.maxMinutes * 60_000, 'otlp-ingest.bench');
  const infra = await connectInfra();
  cleanup.add('close connections', async () => {
    await infra.nc.drain();
    await infra.mongo.close();
  });
  const report = new Report('otlp-ingest', { events: cli.events, rounds: cli.rounds, batch: cli.batch, concurrency: cli.concurrency });
  try {
    const names = phaseNames('otlpbench', infra, cleanup);
    // A memory stream of the bench's own, so disk speed does not weigh on either path.
    await createTestEventsStream(infra.nc, names);
    progress('starting the gateway');
    const gateway = await startService('gateway', { ...isolatedEnv(names), LOG_LEVEL: 'warn', TOOLPATH_API_KEYS: `${KEY}:bench` });
    cleanup.add(`stop gateway pid ${gateway.proc.pid}`, () => gateway.stop());
    report.setMachine(await describeInfra(infra));
    const base = `http://127.0.0.1:${gateway.port}`;
    const cpu = new CpuShare({ gateway: gateway.proc.pid, bench: process.pid });

    const rates: Record<Path, number[]> = { otlp: [], 'otlp-json': [], rest: [] };
    // Round 0 warms both paths up (JIT, sockets) and is not counted.
    for (let round = 0; round <= cli.rounds; round++) {
      const order: Path[] = round % 2 === 0 ? ['otlp', 'rest', 'otlp-json'] : ['rest', 'otlp-json', 'otlp'];
      for (const path of order) {
        const tag = `${round}${path === 'rest' ? 'a' : path === 'otlp' ? 'b' : 'c'}`;
        const parts = batches(calls(tag, cli.events), cli.batch);
        const counts = parts.map((b) => b.length);
        const rate =
          path === 'rest'
            ? await timedRound(`${base}/api/v1/events`, parts.map((b) => restBody(b, tag)), 'application/json', counts, path)
            : await timedRound(`${base}/v1/traces`, parts.map((b) => otlpBody(b, path === 'otlp-json')), path === 'otlp' ? 'application/x-protobuf' : 'application/json', counts, path);
        progress(`round ${round}${round === 0 ? ' (warm-up)' : ''}: ${path} ${Math.round(rate)} events/s`);
        if (round > 0) rates[path].push(rate);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rest = Math.round(median(rates.rest));
    report.add({
      name: 'OTLP/HTTP protobuf ingest of execute_tool spans',
      value: Math.round(median(rates.otlp)),
      unit: 'events/s',
      baseline: { name: 'REST batch ingest of the same events', value: rest, unit: 'events/s' },
      target: { on: 'ratio', op: '>=', value: TARGET_RATIO },
      note: `median of ${cli.rounds} rounds; per round OTLP ${rates.otlp.map(Math.round).join(', ')} vs REST ${rates.rest.map(Math.round).join(', ')}`,
    });
    report.add({
      name: 'OTLP/HTTP JSON ingest of execute_tool spans',
      value: Math.round(median(rates['otlp-json'])),
      unit: 'events/s',
      baseline: { name: 'REST batch ingest of the same events', value: rest, unit: 'events/s' },
      note: `per round ${rates['otlp-json'].map(Math.round).join(', ')}`,
    });
    report.details.cpuShare = cpu.finish();
    report.note('each request is answered once the stream has acknowledged every event of it; the recorder is not running (the same for both paths)');
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
