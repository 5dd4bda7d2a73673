import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { MongoClient, type Db } from 'mongodb';
import { connect, headers as natsHeaders, type JetStreamClient, type NatsConnection } from 'nats';
import type { Drill, DrillContext, DrillRow, ChaosTarget } from '../drill';
import { definitionText, natsCases, natsEventText, restCases, type Fixtures, type HttpAnswer, type KeyChoice, type NatsCase, type RestCase } from './bad-input-corpus';

/**
 * The bad-input drill: every case of the corpus over REST (each must be answered 4xx as the case
 * requires, never 5xx, never 2xx) and over raw NATS (each must end as a `rejected_events` row with
 * its reason, never in `tool_events`, and a valid event published right after it must be stored:
 * no consumer stalls). Afterwards the analyzer must still learn from events published after the
 * bad ones. Every wait is bounded by the drill's deadline.
 */

/** Longest wait for one REST answer (a 10 MB body included). */
const REQUEST_TIMEOUT_MS = 20_000;
/** Bodies are written in slices of this size (see `upload`). */
const UPLOAD_SLICE = 64 * 1024;
/** How long a large upload waits after its headers for an early answer (a 413 on the declared length). */
const EARLY_ANSWER_MS = 1000;
/** Longest wait for one bad NATS message's dead letter and the valid event after it. */
const NATS_CASE_BOUND_MS = 10_000;
/** Longest wait for a fixture (a stored session, a run, a mined pattern). */
const FIXTURE_BOUND_MS = 20_000;

interface Gateway {
  call(method: string, path: string, key: KeyChoice, body?: string, contentType?: string): Promise<HttpAnswer>;
}

export const badInputDrill: Drill = {
  name: 'bad-input',
  fast: true,
  summary: 'the bad-input corpus over REST (4xx naming the field or limit, never 5xx or 2xx) and raw NATS (dead-lettered with a reason, no stalled consumer)',
  run: runBadInput,
};

export default badInputDrill;

async function runBadInput(ctx: DrillContext): Promise<DrillRow> {
  const { target } = ctx;
  if (target.tenants.length < 2) throw new Error('the bad-input drill needs two tenants');
  const run = randomBytes(3).toString('hex');
  const gw = gatewayClient(target, ctx.deadline);
  const notes: string[] = [];
  const mongo = await MongoClient.connect(target.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  const nc = await connect({ servers: target.natsUrl, name: 'chaos-bad-input', timeout: 10_000 });
  try {
    const db = mongo.db(target.database);
    ctx.log('bad-input: reading the routes from the OpenAPI document and making tenant A\'s fixtures');
    const routes = await openApiRoutes(target);
    const fixtures = await makeFixtures(gw, run, ctx, notes);

    const rest = restCases();
    ctx.log(`bad-input: ${rest.length} REST cases`);
    const restOutcome = await runRestCases(gw, rest, routes, fixtures, ctx);

    const nats = natsCases();
    ctx.log(`bad-input: ${nats.length} raw NATS cases, each followed by a valid event`);
    const natsOutcome = await runNatsCases(nc, db, target, nats, run, ctx);

    ctx.log('bad-input: checking that the analyzer still learns from what came after the bad events');
    const learned = await analyzerLearnsAfter(gw, nc, target, natsOutcome.controlSessions, ctx);

    const failures = [...restOutcome.failures, ...natsOutcome.failures];
    const sent = rest.length + nats.length;
    const stored = sent - new Set(failures.map((f) => f.name)).size;
    let stuck = natsOutcome.stalled ? 1 : 0;
    if (!learned.ok) stuck++;
    notes.push(`${rest.length} REST cases, ${nats.length} NATS cases; ${natsOutcome.controlsStored}/${natsOutcome.controlsSent} valid events after them stored`);
    notes.push(`slowest REST answers: ${restOutcome.slowest}`);
    if (natsOutcome.stalled) notes.push(`recorder stalled: ${natsOutcome.stalled}`);
    if (!learned.ok) notes.push(`analyzer stalled: ${learned.why}`);
    for (const f of failures) notes.push(`FAIL ${f.name}: ${f.why}`.slice(0, 300));
    const lost = natsOutcome.controlsSent - natsOutcome.controlsStored;
    return {
      drill: badInputDrill.name,
      sent,
      stored,
      lost,
      duplicated: null,
      stuck,
      recoverMs: null,
      errors5xx: restOutcome.errors5xx,
      ok: failures.length === 0 && restOutcome.errors5xx === 0 && stuck === 0 && lost === 0,
      notes,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await mongo.close().catch(() => undefined);
  }
}

// --- REST ------------------------------------------------------------------------------------

function gatewayClient(target: ChaosTarget, deadline: number): Gateway {
  const [a, b] = target.tenants;
  const authorization: Record<KeyChoice, string | undefined> = {
    a: `Bearer ${a.apiKey}`,
    b: `Bearer ${b.apiKey}`,
    none: undefined,
    unknown: 'Bearer not-a-key-of-anyone-0123456789',
    'not-bearer': `Basic ${Buffer.from(`${a.tenantId}:${a.apiKey}`).toString('base64')}`,
  };
  return {
    call(method, path, key, body, contentType = 'application/json') {
      const headers: Record<string, string> = {};
      const auth = authorization[key];
      if (auth) headers.authorization = auth;
      if (body !== undefined) headers['content-type'] = contentType;
      const timeout = Math.max(1000, Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now()));
      return httpCall(new URL(path, target.gatewayUrl), method, headers, body, timeout);
    },
  };
}

/**
 * One request on node:http rather than fetch: a server may answer a body over its limit with 413
 * before reading it and then close the connection, and that answer must count even though the
 * upload fails (fetch reports only the failed upload).
 */
function httpCall(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method, headers, agent: false }, (res) => {
      answered = true;
      clearTimeout(timer);
      // An event stream that was (wrongly) opened is not read to its end: its status is the answer.
      if (String(res.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, body: '(event stream)' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(err));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
        if (!req.writableEnded) req.destroy(); // answered before the whole body was sent
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      if (answered) return; // the upload broke after the answer came: the answer stands
      clearTimeout(timer);
      reject(err);
    });
    void upload(req, body, () => answered);
  });
}

/**
 * Writes the body in slices, letting incoming data be read between them, and stops once the
 * server has answered: a write into a connection the server closed after answering would
 * otherwise tear the socket down with the answer still unread.
 */
async function upload(req: ClientRequest, body: string | undefined, answered: () => boolean): Promise<void> {
  const data = body === undefined ? undefined : Buffer.from(body, 'utf8');
  if (data === undefined || data.length <= UPLOAD_SLICE) {
    req.end(data);
    return;
  }
  req.setHeader('content-length', data.length);
  // As a client sending `Expect: 100-continue` would: the headers first, then a moment for an
  // early answer. A server refuses a declared length over its limit on the headers alone, then
  // closes; a body written meanwhile breaks the socket before the answer is read (EPIPE).
  req.flushHeaders();
  for (let waited = 0; waited < EARLY_ANSWER_MS && !answered() && !req.destroyed; waited += 20) await new Promise((r) => setTimeout(r, 20));
  for (let at = 0; at < data.length && !answered() && !req.destroyed; at += UPLOAD_SLICE) {
    if (!req.write(data.subarray(at, at + UPLOAD_SLICE))) await drainedOrClosed(req);
    await new Promise((r) => setImmediate(r));
  }
  if (!answered() && !req.destroyed) req.end();
}

/** `METHOD /path/{param}` of every operation in the gateway's OpenAPI document. */
async function openApiRoutes(target: ChaosTarget): Promise<Set<string>> {
  const res = await fetch(`${target.gatewayUrl}/docs-json`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}`);
  const doc = (await res.json()) as { paths?: Record<string, Record<string, unknown>> };
  const routes = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) for (const method of Object.keys(ops)) routes.add(`${method.toUpperCase()} ${path}`);
  return routes;
}

async function runRestCases(
  gw: Gateway,
  cases: RestCase[],
  routes: Set<string>,
  fixtures: Partial<Fixtures>,
  ctx: DrillContext,
): Promise<{ failures: Array<{ name: string; why: string }>; errors5xx: number; slowest: string }> {
  const failures: Array<{ name: string; why: string }> = [];
  const slowest: Array<{ name: string; ms: number }> = [];
  let errors5xx = 0;
  for (const c of cases) {
    if (Date.now() > ctx.deadline) {
      failures.push({ name: c.name, why: 'not sent: the drill ran out of time' });
      continue;
    }
    if (!routes.has(`${c.method} ${c.route}`)) {
      failures.push({ name: c.name, why: `${c.method} ${c.route} is not in the gateway's OpenAPI document` });
      continue;
    }
    if (c.needs && fixtures[c.needs] === undefined) {
      failures.push({ name: c.name, why: `no ${c.needs} of tenant A to try (fixture missing)` });
      continue;
    }
    let answer: HttpAnswer;
    const t0 = Date.now();
    try {
      answer = await gw.call(c.method, c.path(fixtures as Fixtures), c.key, c.body?.(), c.contentType);
    } catch (err) {
      failures.push({ name: c.name, why: `no answer: ${(err as Error).message}` });
      continue;
    } finally {
      slowest.push({ name: c.name, ms: Date.now() - t0 });
      slowest.sort((x, y) => y.ms - x.ms).splice(3);
    }
    if (answer.status >= 500) errors5xx++;
    const why = c.check(answer);
    if (why) failures.push({ name: c.name, why });
  }
  return { failures, errors5xx, slowest: slowest.map((x) => `${x.name} ${x.ms} ms`).join('; ') };
}

// --- fixtures: what tenant A owns ------------------------------------------------------------

async function makeFixtures(gw: Gateway, run: string, ctx: DrillContext, notes: string[]): Promise<Partial<Fixtures>> {
  const f: Partial<Fixtures> = {};
  const bound = () => Math.min(ctx.deadline, Date.now() + FIXTURE_BOUND_MS);

  const wf = await gw.call('POST', '/api/v1/workflows', 'a', definitionText('{"value":"{{ input.x }}"}', `Drill fixture ${run}`));
  if (wf.status === 201) f.workflowId = (wf.body as { id: string }).id;
  else notes.push(`fixture: POST /workflows answered ${wf.status}`);

  if (f.workflowId) {
    const started = await gw.call('POST', `/api/v1/workflows/${f.workflowId}/executions`, 'a', JSON.stringify({ input: { x: 'drill' } }));
    if (started.status === 202) {
      const id = (started.body as { executionId: string }).executionId;
      const seen = await poll(async () => (await gw.call('GET', `/api/v1/executions/${id}`, 'a')).status === 200, bound());
      if (seen) f.executionId = id;
      else notes.push(`fixture: execution ${id} never readable by its tenant`);
    } else notes.push(`fixture: POST /workflows/:id/executions answered ${started.status}`);
  }

  // Sessions with one recurring sequence, so the analyzer mines a pattern of tenant A.
  const t0 = Date.now() - 60_000;
  const events: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    const sessionId = `drill-fixture-${run}-${i}`;
    // Three tools: the analyzer learns sequences of ANALYZER_MIN_STEPS (3 by default) or more.
    ['drill.fixture.first', 'drill.fixture.second', 'drill.fixture.third'].forEach((tool, seq) =>
      events.push({ kind: 'tool_call', sessionId, seq, tool, parameters: { i }, success: true, startedAt: t0 + i * 1000 + seq, durationMs: 5, intent: 'drill fixture' }),
    );
    events.push({ kind: 'session_end', sessionId, seq: 3, success: true, startedAt: t0 + i * 1000 + 3, durationMs: 10, intent: 'drill fixture' });
  }
  const submitted = await gw.call('POST', '/api/v1/events', 'a', JSON.stringify(events));
  if (submitted.status !== 202 || (submitted.body as { accepted?: number }).accepted !== events.length) {
    notes.push(`fixture: POST /events (batch of ${events.length}) answered ${submitted.status}`);
    return f;
  }
  const sessionId = `drill-fixture-${run}-0`;
  if (await poll(async () => (await gw.call('GET', `/api/v1/sessions/${sessionId}`, 'a')).status === 200, bound())) f.sessionId = sessionId;
  else notes.push('fixture: the submitted session was never stored');

  f.patternId = await minedPattern(gw, 'drill.fixture.first', 4, bound());
  if (!f.patternId) notes.push('fixture: no pattern of tenant A was mined in time');
  return f;
}

/** Asks for analyzer runs until a pattern starting with `tool` has `support` sessions; its id. */
async function minedPattern(gw: Gateway, tool: string, support: number, until: number): Promise<string | undefined> {
  let id: string | undefined;
  await poll(async () => {
    const waitMs = Math.max(0, Math.min(10_000, until - Date.now()));
    await gw.call('POST', '/api/v1/analyzer/runs', 'a', JSON.stringify({ waitMs }));
    const page = await gw.call('GET', `/api/v1/patterns?tool=${encodeURIComponent(tool)}&limit=50`, 'a');
    const items = (page.body as { items?: Array<{ id: string; tools: string[]; support: number }> }).items ?? [];
    id = items.find((p) => p.tools[0] === tool && p.tools.length >= 3 && p.support >= support)?.id;
    return id !== undefined;
  }, until, 250);
  return id;
}

// --- raw NATS --------------------------------------------------------------------------------

interface NatsOutcome {
  failures: Array<{ name: string; why: string }>;
  controlsSent: number;
  controlsStored: number;
  /** Sessions (of tenant A) whose first valid event followed a bad one. */
  controlSessions: string[];
  /** Why the recorder is considered stalled, when it is. */
  stalled?: string;
}

async function runNatsCases(nc: NatsConnection, db: Db, target: ChaosTarget, cases: NatsCase[], run: string, ctx: DrillContext): Promise<NatsOutcome> {
  const js = nc.jetstream();
  const tenantA = target.tenants[0].tenantId;
  const tenantB = target.tenants[1].tenantId;
  const events = db.collection<{ _id: string; streamSeq?: number }>('tool_events');
  const rejected = db.collection<{ _id: string; reason?: string; message?: string }>('rejected_events');
  const out: NatsOutcome = { failures: [], controlsSent: 0, controlsStored: 0, controlSessions: [] };
  /** Cases waiting for their dead letter once the recorder looks stalled (checked together at the end). */
  const pending: Array<{ c: NatsCase; seq: number; control?: string }> = [];

  for (const [i, c] of cases.entries()) {
    const eventId = `drill-bad-${run}-${i}`;
    const payload = c.payload({ tenantA, tenantB, eventId });
    let seq: number | undefined;
    let refusal: string | undefined;
    try {
      seq = (await publish(js, c.subject(target.subjectPrefix, tenantA), payload, `${tenantA}:${eventId}`)).seq;
    } catch (err) {
      refusal = (err as Error).message;
    }
    // The valid event right after the bad one: it must be stored whatever the bad one did.
    const control = `drill-ctl-${run}-${i}`;
    let controlSent = false;
    try {
      await publish(js, `${target.subjectPrefix}.events.${tenantA}`, natsEventText(tenantA, `${control}-1`, '', { sessionId: control, seq: 0, tool: 'drill.control.first', startedAt: Date.now() - 30_000 }), `${tenantA}:${control}-1`);
      controlSent = true;
      out.controlsSent++;
      out.controlSessions.push(control);
    } catch (err) {
      out.failures.push({ name: c.name, why: `the valid event after it was not acknowledged: ${(err as Error).message}` });
    }

    if (seq === undefined) {
      if (c.expect !== 'refused') out.failures.push({ name: c.name, why: `NATS refused the publish (expected a dead letter ${c.expect.reason}): ${refusal}` });
      if (controlSent) pending.push({ c: { ...c, expect: 'refused' }, seq: -1, control });
      continue;
    }
    if (out.stalled) {
      pending.push({ c, seq, control: controlSent ? control : undefined });
      continue;
    }
    // Settled once the bad message is somewhere (a dead letter, or wrongly stored: judged below)
    // and the valid one after it is stored. Only a valid event left unstored means a stall.
    const until = Math.min(ctx.deadline, Date.now() + NATS_CASE_BOUND_MS);
    const controlStored = async () => !controlSent || (await events.countDocuments({ _id: `${tenantA}:${control}-1` })) === 1;
    const badSettled = async () => (await rejected.countDocuments({ _id: `${target.stream}:${seq}` })) === 1 || (await events.countDocuments({ streamSeq: seq })) > 0;
    const settled = await poll(async () => (await controlStored()) && (await badSettled()), until);
    if (!settled && !(await controlStored())) out.stalled = `the valid event after "${c.name}" was not stored within ${NATS_CASE_BOUND_MS} ms`;
    pending.push({ c, seq, control: controlSent ? control : undefined });
  }

  // One more bounded wait for everything (only long when the recorder is slow or stalled).
  const until = Math.min(ctx.deadline, Date.now() + NATS_CASE_BOUND_MS);
  const controlIds = pending.filter((p) => p.control).map((p) => `${tenantA}:${p.control}-1`);
  const deadLetterIds = pending.filter((p) => p.seq >= 0).map((p) => `${target.stream}:${p.seq}`);
  await poll(
    async () =>
      (await events.countDocuments({ _id: { $in: controlIds } })) === controlIds.length &&
      (await rejected.countDocuments({ _id: { $in: deadLetterIds } })) === deadLetterIds.length,
    until,
  );
  out.controlsStored = await events.countDocuments({ _id: { $in: controlIds } });

  const letters = new Map<string, { reason?: string; message?: string }>();
  for (const row of await rejected.find({ _id: { $in: deadLetterIds } }, { projection: { reason: 1, message: 1 } }).toArray()) letters.set(row._id, row);
  const seqs = pending.filter((p) => p.seq >= 0).map((p) => p.seq);
  const storedBad = new Set((await events.find({ streamSeq: { $in: seqs } }, { projection: { streamSeq: 1 } }).toArray()).map((r) => r.streamSeq as number));
  for (const p of pending) {
    if (p.seq < 0) continue;
    const letter = letters.get(`${target.stream}:${p.seq}`);
    const expected = p.c.expect === 'refused' ? undefined : p.c.expect.reason;
    if (storedBad.has(p.seq)) out.failures.push({ name: p.c.name, why: `stored in tool_events (stream seq ${p.seq})` });
    else if (!letter) out.failures.push({ name: p.c.name, why: `no rejected_events row within the bound (stream seq ${p.seq})` });
    else if (!letter.reason || (expected && letter.reason !== expected)) out.failures.push({ name: p.c.name, why: `dead-lettered as "${letter.reason}", expected "${expected}"` });
    else if (!letter.message) out.failures.push({ name: p.c.name, why: 'dead letter without a message' });
  }
  const missing = controlIds.length - out.controlsStored;
  if (missing > 0 && !out.stalled) out.stalled = `${missing} valid events published after bad ones were not stored`;
  return out;
}

async function publish(js: JetStreamClient, subject: string, payload: string | Uint8Array, msgId: string): Promise<{ seq: number }> {
  const h = natsHeaders();
  h.set('Nats-Msg-Id', msgId);
  const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return js.publish(subject, data, { headers: h, timeout: 5000 });
}

/**
 * Ends each control session with a second tool and a session_end, then asks for analyzer runs
 * until the pattern those sessions form is counted in full: the analyzer's consumer got past
 * every bad message.
 */
async function analyzerLearnsAfter(
  gw: Gateway,
  nc: NatsConnection,
  target: ChaosTarget,
  sessions: string[],
  ctx: DrillContext,
): Promise<{ ok: boolean; why?: string }> {
  if (sessions.length === 0) return { ok: false, why: 'no valid event could be published after the bad ones' };
  const js = nc.jetstream();
  const tenantA = target.tenants[0].tenantId;
  const t0 = Date.now() - 30_000;
  try {
    for (const sessionId of sessions) {
      const subject = `${target.subjectPrefix}.events.${tenantA}`;
      for (const [seq, tool] of [[1, 'drill.control.second'], [2, 'drill.control.third']] as const) {
        await publish(js, subject, natsEventText(tenantA, `${sessionId}-${seq + 1}`, '', { sessionId, seq, tool, startedAt: t0 + seq }), `${tenantA}:${sessionId}-${seq + 1}`);
      }
      await publish(js, subject, JSON.stringify({ specVersion: '1', eventId: `${sessionId}-end`, tenantId: tenantA, kind: 'session_end', sessionId, seq: 3, success: true, startedAt: t0 + 3, durationMs: 3 }), `${tenantA}:${sessionId}-end`);
    }
  } catch (err) {
    return { ok: false, why: `publishing the rest of the control sessions failed: ${(err as Error).message}` };
  }
  const until = Math.min(ctx.deadline, Date.now() + FIXTURE_BOUND_MS);
  const id = await minedPattern(gw, 'drill.control.first', sessions.length, until);
  return id ? { ok: true } : { ok: false, why: `no pattern drill.control.first → second → third with support ${sessions.length} within ${FIXTURE_BOUND_MS} ms` };
}

function drainedOrClosed(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done).off('close', done);
      resolve();
    };
    req.once('drain', done).once('close', done);
  });
}

/** Calls `probe` until it answers true or `until` passes; whether it did. */
async function poll(probe: () => Promise<boolean>, until: number, intervalMs = 100): Promise<boolean> {
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // a failed probe is retried until the bound
    }
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
