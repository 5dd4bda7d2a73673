import type { Msg, Subscription } from 'nats';
import { analyzerSubjects, gatewayLearningSubjects, type ToolEventInput } from '@toolpath/contracts';
import { EventPublisher } from '@toolpath/sdk';
import { gatewayHarness } from './gateway-harness';

/**
 * The analyzer's automatic promotion, watched on the wire: one request from the analyzer to the
 * gateway per pattern, carrying the definition, one reply, and nothing from the gateway back to
 * the analyzer (which marks the pattern itself).
 */
const REVIEW = ['github.get_pr', 'github.get_diff', 'slack.post'];

const ctx = gatewayHarness('gwautopro');
const call = ctx.call;
const decoder = new TextDecoder();

function reviewSessions(count: number): ToolEventInput[] {
  const t0 = Date.now() - 60_000;
  const out: ToolEventInput[] = [];
  for (let i = 0; i < count; i++) {
    const sessionId = `rev-${i}`;
    REVIEW.forEach((tool, seq) => out.push({ kind: 'tool_call', sessionId, seq, tool, parameters: { n: seq }, result: { ok: true }, success: true, startedAt: t0 + i * 1000 + seq, durationMs: 10 }));
    out.push({ kind: 'session_end', sessionId, seq: REVIEW.length, success: true, startedAt: t0 + i * 1000, durationMs: 50, intent: 'review a pull request' });
  }
  return out;
}

/** Every message on `subject` (a copy: the monitor is in no queue group), in order. */
function watch(subject: string): { seen: Msg[]; sub: Subscription } {
  const seen: Msg[] = [];
  return { seen, sub: ctx.nc.subscribe(subject, { callback: (err, msg) => !err && seen.push(msg) }) };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  await ctx.connect();
  await ctx.startService('analyzer', { ANALYZER_SCHEDULE: 'off', ANALYZER_AUTO_PROMOTE: 'true', ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE: '0.01' });
  await ctx.startGateway();
  const pub = new EventPublisher(ctx.nc, { tenantId: 'acme', subjectPrefix: ctx.names.subjectPrefix });
  for (const e of reviewSessions(6)) pub.publish(e);
  await pub.flush(30_000);
  await pub.close({ timeoutMs: 2000 });
}, 90_000);

afterAll(() => ctx.teardown());

it('promotes with one request to the gateway and its one reply per pattern; the gateway asks the analyzer nothing', async () => {
  const prefix = ctx.names.subjectPrefix;
  const promotes = watch(gatewayLearningSubjects(prefix).promote);
  const toAnalyzer = watch(`${prefix}.analyzer.>`);
  const replies = watch('_INBOX.>');
  await ctx.nc.flush();

  const run = await call('POST', '/api/v1/analyzer/runs', { body: { waitMs: 30_000 } });
  expect(run.body).toMatchObject({ status: 'completed', tenant: { sessionsClosed: 6 } });
  await until('a promotion request', () => promotes.seen.length > 0);
  const answered = (m: Msg) => replies.seen.filter((r) => r.subject === m.reply).length;
  await until('the gateway to answer every promotion', () => promotes.seen.every((m) => answered(m) > 0));
  // What reached the analyzer while the promotions were open: the run the test asked for, nothing else.
  expect(toAnalyzer.seen.map((m) => m.subject)).toEqual([analyzerSubjects(prefix).run]);

  const requests = promotes.seen.map((m) => JSON.parse(decoder.decode(m.data)));
  const ids = requests.map((r) => r.patternId);
  expect(new Set(ids).size).toBe(ids.length);
  for (const [i, m] of promotes.seen.entries()) {
    expect(requests[i]).toMatchObject({ tenantId: 'acme', workflow: { source: 'learned', steps: expect.any(Array) } });
    expect(answered(m)).toBe(1);
    expect(JSON.parse(decoder.decode(replies.seen.find((r) => r.subject === m.reply)!.data))).toEqual({ ok: true, value: { workflowId: expect.any(String), created: true } });
  }
  toAnalyzer.sub.unsubscribe();

  // The analyzer marked them itself: the listing shows each in the catalog, tagged with its pattern.
  const review = async () => (await call('GET', '/api/v1/patterns')).body.items.find((p: { tools: string[] }) => p.tools.join() === REVIEW.join());
  await until('the review pattern to be marked promoted', async () => (await review())?.promotedWorkflowId != null);
  const pattern = await review();
  expect(ids).toContain(pattern.id);
  const workflow = await call('GET', `/api/v1/workflows/${pattern.promotedWorkflowId}`);
  expect(workflow.body).toMatchObject({ source: 'learned', tags: expect.arrayContaining(['learned', `pattern-${pattern.id}`]) });

  // A later run asks nothing again: the patterns are promoted.
  await call('POST', '/api/v1/analyzer/runs', { body: { waitMs: 30_000 } });
  await new Promise((r) => setTimeout(r, 300));
  expect(promotes.seen).toHaveLength(ids.length);
  promotes.sub.unsubscribe();
  replies.sub.unsubscribe();
}, 60_000);
