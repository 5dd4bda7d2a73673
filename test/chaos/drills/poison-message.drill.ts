/**
 * Poison messages: for tenant A, amid valid events of tenants A and B, one event every check
 * passes but whose processing fails (the apps' test-only fault hook TOOLPATH_FAULT_POISON_TOOL,
 * set on a recorder and an analyzer the drill starts in place of the usual ones) and one event
 * nested 5,000 levels deep (which once overflowed the analyzer's journal write and stalled every
 * tenant). Ok when every valid event of A and B is stored and learned (their sessions appear in
 * the analyzer's intent statistics), both poisons end in rejected_events with their reasons
 * (`processing_failed` from the recorder and the analyzer, `invalid_event`), and neither
 * consumer stalls (each acknowledged past the last message).
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { ANALYZER_CONSUMER, RECORDER_CONSUMER, analyzerSubjects, eventKey, eventsSubject } from '@toolpath/contracts';
import type { ChaosApp, ChaosProcess, Drill, DrillContext, DrillRow } from '../drill';
import { drainBound, needControl } from './common';

/** The tool name the fault hook fails on. */
export const POISON_TOOL = 'chaos.poison';
/** What the drill's recorder and analyzer run with: the hook on (never in production). */
export const POISON_ENV: Record<string, string> = { TOOLPATH_FAULT_POISON_TOOL: POISON_TOOL };
const TOOLS = ['drill.fetch', 'drill.transform', 'drill.store'];
const DEEP_LEVELS = 5000;
const codec = JSONCodec<unknown>();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Published {
  tenantId: string;
  eventId: string;
  seq: number;
}

export const poisonMessageDrill: Drill = {
  name: 'poison-message',
  fast: true,
  summary: "a poison event of tenant A (processing fails; 5,000-deep nesting) amid A's and B's: dead-lettered with its reason, everything else stored and learned, no consumer stalls",
  run,
};

async function run(ctx: DrillContext): Promise<DrillRow> {
  const control = needControl(ctx);
  const { target } = ctx;
  const [a, b] = target.tenants;
  const notes: string[] = [];
  const failures: string[] = [];
  const ours: ChaosProcess[] = [];
  let nc: NatsConnection | undefined;
  let mongo: MongoClient | undefined;
  try {
    // The usual recorder and analyzer go (idle: nothing in flight); ours run with the hook. The
    // runner starts the usual ones again after the drill (ours are killed below).
    for (const app of ['recorder', 'analyzer'] as ChaosApp[]) for (const p of control.processes(app)) await p.kill9();
    ours.push(await control.startApp('recorder', POISON_ENV));
    ours.push(await control.startApp('analyzer', { ...POISON_ENV, ANALYZER_SCHEDULE: 'off' }));
    nc = await connect({ servers: target.natsUrl, name: 'chaos-poison' });
    mongo = await MongoClient.connect(target.mongoUrl, { serverSelectionTimeoutMS: 5000 });
    const db = mongo.db(target.database);
    const js = nc.jetstream({ timeout: 10_000 });

    const token = randomBytes(4).toString('hex');
    const intent = `poison drill ${token}`;
    const sessions = Math.max(3, Math.round(20 * ctx.scale));
    const valid: Published[] = [];
    let poison: Published | undefined;
    let deep: Published | undefined;
    let sent = 0;
    const publish = async (tenantId: string, eventId: string, body: string): Promise<Published> => {
      const ack = await js.publish(eventsSubject(target.subjectPrefix, tenantId), Buffer.from(body), { msgID: eventKey(tenantId, eventId) });
      sent++;
      return { tenantId, eventId, seq: ack.seq };
    };
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < sessions; i++) {
      for (const tenant of [a, b]) {
        const sessionId = `${token}-${tenant.tenantId}-${i}`;
        for (let s = 0; s <= TOOLS.length; s++) {
          const end = s === TOOLS.length;
          const eventId = `${sessionId}-${s}`;
          const body = end
            ? { specVersion: '1', kind: 'session_end', eventId, tenantId: tenant.tenantId, sessionId, seq: s, success: true, startedAt: t0, durationMs: 300, intent }
            : { specVersion: '1', kind: 'tool_call', eventId, tenantId: tenant.tenantId, sessionId, seq: s, tool: TOOLS[s], parameters: { step: s }, success: true, startedAt: t0 + s * 100, durationMs: 20, intent };
          valid.push(await publish(tenant.tenantId, eventId, JSON.stringify(body)));
          // The poisons go amid A's first session and right after it.
          if (i === 0 && tenant === a && s === 1) {
            const id = `${token}-poison`;
            poison = await publish(a.tenantId, id, JSON.stringify({ specVersion: '1', kind: 'tool_call', eventId: id, tenantId: a.tenantId, sessionId, seq: 99, tool: POISON_TOOL, success: true, startedAt: t0 + 150, durationMs: 1, intent }));
          }
          if (i === 0 && tenant === a && end) {
            const id = `${token}-deep`;
            const nested = '{"x":'.repeat(DEEP_LEVELS) + '1' + '}'.repeat(DEEP_LEVELS);
            deep = await publish(a.tenantId, id, `{"specVersion":"1","kind":"tool_call","eventId":"${id}","tenantId":"${a.tenantId}","sessionId":"${token}-deep","tool":"drill.deep","parameters":${nested},"success":true,"startedAt":${t0},"durationMs":1}`);
          }
        }
      }
    }
    const lastSeq = Math.max(...valid.map((v) => v.seq), poison!.seq, deep!.seq);
    ctx.log(`poison-message: ${sent} events published (stream up to ${lastSeq}); waiting for the recorder, then running the analyzer`);
    const bound = drainBound(ctx);
    const jsm = await nc.jetstreamManager();
    const passed = async (consumer: string) => {
      const info = await jsm.consumers.info(target.stream, consumer).catch(() => undefined);
      return info !== undefined && info.ack_floor.stream_seq >= lastSeq && info.num_ack_pending === 0;
    };
    const started = Date.now();
    while (!(await passed(RECORDER_CONSUMER)) && Date.now() < bound) await sleep(200);
    const recorderStalled = !(await passed(RECORDER_CONSUMER));
    for (let runs = 0; runs < 5 && !(await passed(ANALYZER_CONSUMER)) && Date.now() < bound; runs++) {
      const waitMs = Math.max(1000, Math.min(30_000, bound - Date.now()));
      const reply = await nc.request(analyzerSubjects(target.subjectPrefix).run, codec.encode({ tenantId: b.tenantId, mode: 'incremental', waitMs }), { timeout: waitMs + 5000 });
      const r = codec.decode(reply.data) as { ok: boolean; value?: { status: string; error?: string }; error?: { message: string } };
      if (!r.ok || r.value?.status !== 'completed') notes.push(`analyzer run: ${r.ok ? `${r.value?.status} ${r.value?.error ?? ''}` : r.error?.message}`);
    }
    const analyzerStalled = !(await passed(ANALYZER_CONSUMER));
    notes.push(`drained in ${Date.now() - started} ms`);
    if (recorderStalled) failures.push('the recorder consumer did not pass the last message');
    if (analyzerStalled) failures.push('the analyzer consumer did not pass the last message');

    // Stored: every valid event, and neither poison.
    const keys = valid.map((v) => eventKey(v.tenantId, v.eventId));
    const storedKeys = new Set((await db.collection<{ _id: string }>('tool_events').find({ _id: { $in: keys } }, { projection: { _id: 1 } }).toArray()).map((r) => r._id));
    const lost = keys.filter((k) => !storedKeys.has(k)).length;
    const poisonStored = await db.collection<{ _id: string }>('tool_events').countDocuments({ _id: { $in: [eventKey(a.tenantId, poison!.eventId), eventKey(a.tenantId, deep!.eventId)] } });
    if (lost > 0) failures.push(`${lost} valid events not stored`);
    if (poisonStored > 0) failures.push(`${poisonStored} poison events stored as valid`);

    // Dead letters with their reasons.
    const letters = await db
      .collection<{ _id: string; reason: string; consumer?: string; attempts?: number; streamSeq: number }>('rejected_events')
      .find({ streamSeq: { $in: [poison!.seq, deep!.seq] } })
      .toArray();
    const has = (seq: number, reason: string, consumer?: string) =>
      letters.some((l) => l.streamSeq === seq && l.reason === reason && (consumer === undefined || (l.consumer ?? 'recorder') === consumer));
    if (!has(poison!.seq, 'processing_failed', 'recorder')) failures.push('the poison has no processing_failed dead letter from the recorder');
    if (!has(poison!.seq, 'processing_failed', 'analyzer')) failures.push('the poison has no processing_failed dead letter from the analyzer');
    if (!has(deep!.seq, 'invalid_event')) failures.push('the 5,000-deep event has no invalid_event dead letter');
    notes.push(`dead letters: ${letters.map((l) => `${l.streamSeq}:${l.consumer ?? 'recorder'}:${l.reason}${l.attempts ? `×${l.attempts}` : ''}`).join(', ')}`);

    // Learned: every session of A (the poison's one included, without the poison) and of B.
    const learned: Record<string, number> = {};
    for (const tenant of [a, b]) {
      const reply = await nc.request(analyzerSubjects(target.subjectPrefix).intentStats, codec.encode({ tenantId: tenant.tenantId, limit: 1000 }), { timeout: 10_000 });
      const r = codec.decode(reply.data) as { ok: boolean; value?: { items: Array<{ intent: string; total: number }> } };
      learned[tenant.tenantId] = r.value?.items.find((item) => item.intent === intent)?.total ?? 0;
      if (learned[tenant.tenantId] !== sessions) failures.push(`${tenant.tenantId}: ${learned[tenant.tenantId]} of ${sessions} sessions learned`);
    }
    notes.push(`sessions learned: ${Object.entries(learned).map(([t, n]) => `${t} ${n}/${sessions}`).join(', ')}`);

    return {
      drill: poisonMessageDrill.name,
      sent,
      stored: keys.length - lost,
      lost,
      duplicated: null,
      stuck: Number(recorderStalled) + Number(analyzerStalled),
      recoverMs: null,
      errors5xx: null,
      ok: failures.length === 0,
      notes: [...failures.map((f) => `FAILED: ${f}`), ...notes],
    };
  } finally {
    // The runner brings the usual processes back; ours must not stay (the hook is test-only).
    for (const p of ours) await p.kill9().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
  }
}
