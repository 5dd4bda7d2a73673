/**
 * NATS stopped while a producer publishes through the TS SDK (EventPublisher, default buffer of
 * 10,000) at 1,000/s: stopped and started again at once, and down for 12 s. The SDK buffers what
 * it cannot send and drops, counting them, what does not fit; every event it did not drop must be
 * stored exactly once, and the recorder's consumer must drain once NATS is back.
 */
import { randomBytes } from 'node:crypto';
import { EventDroppedError, EventPublisher } from '@toolpath/sdk';
import type { Drill, DrillContext, DrillRow } from '../drill';
import { connectNats, eventInput, pollUntil, recorderConsumer, sleep, StoreProbe, tally } from '../load';
import { drainBound, needControl, processFaultRow } from './common';

const RATE = 1_000;
const EVENTS = 50_000;

function natsOutage(name: string, downMs: number, fast: boolean): Drill {
  return {
    name,
    fast,
    summary: `NATS stopped at 30% of 50,000 events an SDK publishes at 1,000/s, ${downMs ? `down ${downMs / 1000} s` : 'started again at once'}: 0 lost (SDK drops counted and reported), 0 duplicated, consumer drained`,
    async run(ctx: DrillContext): Promise<DrillRow> {
      const control = needControl(ctx);
      const n = Math.max(1_000, Math.round(EVENTS * ctx.scale));
      // A 12 s outage at 1,000/s needs 12,000 events after the stop: the load is at least that.
      const total = Math.max(n, Math.ceil(n * 0.3) + (downMs * RATE) / 1000 + 2_000);
      const tenant = `na${randomBytes(3).toString('hex')}`;
      const store = await StoreProbe.open(ctx.target);
      /** 1 = handed to the SDK and not dropped (so it must be stored). */
      const accepted = new Uint8Array(total);
      const dropped = { bufferFull: 0, afterRetries: 0, onClose: 0 };
      const publisher = EventPublisher.connect({
        servers: ctx.target.natsUrl,
        tenantId: tenant,
        subjectPrefix: ctx.target.subjectPrefix,
        name: `chaos-${name}`,
        onError: (err) => {
          if (err instanceof EventDroppedError && err.reason !== 'buffer_full') {
            const i = Number(err.eventId.slice(1));
            if (Number.isInteger(i) && i >= 0 && i < total) accepted[i] = 0;
          }
        },
      });
      const notes: string[] = [];
      let nc: Awaited<ReturnType<typeof connectNats>> | undefined;
      try {
        await publisher.ready(10_000);
        ctx.log(`${name}: the SDK publishes ${total} events at ${RATE}/s as tenant ${tenant}`);
        let stoppedAt = 0;
        let before = 0;
        let faultDone: Promise<void> | undefined;
        let recovery: Promise<number | null> | undefined;
        const t0 = Date.now();
        for (let i = 0; i < total && Date.now() < ctx.deadline; i++) {
          const due = t0 + (i * 1000) / RATE;
          if (due > Date.now()) await sleep(due - Date.now());
          const full = publisher.stats().droppedBufferFull;
          publisher.publish(eventInput(i));
          // A buffer-full drop is counted at once, inside publish(): this event is the one.
          accepted[i] = publisher.stats().droppedBufferFull === full ? 1 : 0;
          if (!faultDone && i >= total * 0.3) {
            before = i + 1;
            stoppedAt = Date.now();
            faultDone = (async () => {
              await control.stopServer('nats');
              ctx.log(`${name}: NATS stopped`);
              if (downMs) await sleep(downMs - (Date.now() - stoppedAt));
              await control.startServer('nats');
              ctx.log(`${name}: NATS started again after ${Date.now() - stoppedAt} ms`);
            })();
            // Recovered once every event handed to the SDK before the stop is stored (watched
            // while the load goes on).
            const mustStore = [...accepted.subarray(0, before)].filter(Boolean).length;
            recovery = faultDone.then(async () => {
              const stored = await pollUntil(
                () => store.countBelow(tenant, before),
                (c) => c !== null && c >= mustStore,
                drainBound(ctx),
                200,
              );
              return stored !== null && stored >= mustStore ? Date.now() - stoppedAt : null;
            });
            recovery.catch(() => undefined);
          }
        }
        await faultDone;
        const recoverMs = (await recovery) ?? null;
        await publisher.flush(Math.max(1_000, Math.min(60_000, ctx.deadline - Date.now()))).catch((err: Error) => notes.push(`flush: ${err.message}`));
        const s = publisher.stats();
        dropped.bufferFull = s.droppedBufferFull;
        dropped.afterRetries = s.droppedAfterRetries;
        dropped.onClose = s.droppedOnClose;
        nc = await connectNats(ctx.target, `chaos-${name}-probe`);
        const consumer = await pollUntil(
          () => recorderConsumer(nc!, ctx.target),
          (c) => c !== null && c.pending === 0 && c.ackPending === 0,
          drainBound(ctx),
          500,
        );
        const t = tally(accepted, await store.storedIndexes(tenant));
        const stuck = consumer && consumer.pending === 0 && consumer.ackPending === 0 ? 0 : 1;
        notes.push(
          `SDK drops: ${dropped.bufferFull} buffer full, ${dropped.afterRetries} after retries, ${dropped.onClose} on close (of ${total} published; ${s.duplicates} acks were stream duplicates)`,
        );
        if (stuck) notes.push(`recorder consumer not drained: ${JSON.stringify(consumer)}`);
        return processFaultRow(name, { sent: t.acked, stored: t.stored, lost: t.lost, duplicated: t.duplicated, stuck, recoverMs, notes });
      } finally {
        await publisher.close({ timeoutMs: 2_000 }).catch(() => undefined);
        await nc?.close().catch(() => undefined);
        await store.close();
      }
    },
  };
}

export const natsRestartDrill = natsOutage('nats-restart', 0, false);
export const natsDownDrill = natsOutage('nats-down-12s', 12_000, false);
