/**
 * A fault injected while events are published at 1,000/s straight on JetStream: once 30% are
 * acknowledged the drill's fault runs (kill a recorder, a database server, ...), then the load
 * goes on. Every event the stream acknowledged must be stored exactly once, and the recorder's
 * consumer drained. Recovery: from the fault until every event acknowledged by the end of the
 * restart is stored.
 */
import { randomBytes } from 'node:crypto';
import type { ChaosControl, Drill, DrillContext, DrillRow } from '../drill';
import { connectNats, pollUntil, publishAtRate, recorderConsumer, StoreProbe, tally } from '../load';
import { drainBound, needControl, processFaultRow } from './common';

const RATE = 1_000;
/** The documented load: 50,000 events (scaled down by --fast). */
const EVENTS = 50_000;

export interface EventLoadFault {
  name: string;
  fast: boolean;
  summary: string;
  /** Before the load (e.g. a second recorder). */
  setup?(control: ChaosControl): Promise<void>;
  /** The fault and the restart, as a supervisor would do it; returns a line for the notes. */
  fault(control: ChaosControl, ctx: DrillContext): Promise<string>;
}

export function eventLoadDrill(spec: EventLoadFault): Drill {
  return {
    name: spec.name,
    fast: spec.fast,
    summary: spec.summary,
    async run(ctx: DrillContext): Promise<DrillRow> {
      const control = needControl(ctx);
      const n = Math.max(1_000, Math.round(EVENTS * ctx.scale));
      const tenant = `ld${randomBytes(3).toString('hex')}`;
      const nc = await connectNats(ctx.target, `chaos-${spec.name}`);
      const store = await StoreProbe.open(ctx.target);
      const notes: string[] = [];
      try {
        await spec.setup?.(control);
        ctx.log(`${spec.name}: publishing ${n} events at ${RATE}/s as tenant ${tenant}`);
        const load = publishAtRate(nc, ctx.target, tenant, n, RATE, ctx.deadline);
        load.done.catch(() => undefined);
        await pollUntil(async () => load.ackedCount(), (a) => a >= n * 0.3, ctx.deadline);
        // How far the store was behind the stream when the fault hit: the recovery time includes it.
        const lag = load.ackedCount() - ((await store.count(tenant)) ?? 0);
        const faultAt = Date.now();
        notes.push(await spec.fault(control, ctx), `store behind the stream by ${lag} events at the fault`);
        // Recovered once every event acknowledged until the restart is stored (what a killed
        // recorder held included, redelivered after the ack wait).
        const before = load.ackedPrefix();
        const recovered = waitRecovered(async () => {
          const stored = await store.countBelow(tenant, before);
          if (stored === before) return 'recovered';
          // Never: the recorder is idle and the count no longer moves (events were lost).
          const c = await recorderConsumer(nc, ctx.target);
          return c && c.pending === 0 && c.ackPending === 0 ? `idle:${stored}` : 'busy';
        }, ctx.deadline).then((ok) => (ok ? Date.now() - faultAt : null));
        ctx.log(`${spec.name}: fault and restart done in ${Date.now() - faultAt} ms, ${before} events acknowledged by then`);
        await load.done;
        const recoverMs = await recovered;
        ctx.log(`${spec.name}: ${load.ackedCount()} acknowledged, ${load.failed()} publishes failed; waiting for the store`);
        const consumer = await pollUntil(
          () => recorderConsumer(nc, ctx.target),
          (c) => c !== null && c.pending === 0 && c.ackPending === 0,
          drainBound(ctx),
          500,
        );
        const t = tally(load.acked, await store.storedIndexes(tenant));
        const rejected = await store.rejected(tenant);
        const stuck = consumer && consumer.pending === 0 && consumer.ackPending === 0 ? 0 : 1;
        if (load.failed()) notes.push(`${load.failed()} publishes not acknowledged (not counted as sent)`);
        if (rejected) notes.push(`${rejected} events dead-lettered`);
        if (stuck) notes.push(`recorder consumer not drained: ${JSON.stringify(consumer)}`);
        return processFaultRow(spec.name, { sent: t.acked, stored: t.stored, lost: t.lost, duplicated: t.duplicated, stuck, recoverMs, notes });
      } finally {
        await nc.close().catch(() => undefined);
        await store.close();
      }
    },
  };
}

/**
 * Polls until the store holds everything ('recovered'), or the recorder has been idle with the
 * same count for 10 s (the rest is lost: no point waiting for the deadline), or the deadline.
 */
async function waitRecovered(probe: () => Promise<string>, deadline: number): Promise<boolean> {
  let idleSince = 0;
  let last = '';
  while (Date.now() < deadline) {
    const state = await probe();
    if (state === 'recovered') return true;
    if (state.startsWith('idle') && state === last) {
      if (Date.now() - idleSince > 10_000) return false;
    } else {
      idleSince = Date.now();
    }
    last = state;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
