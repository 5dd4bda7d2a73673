import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ExecutionRepository, type ExecutionDocument } from './execution.repository';

type Kind = 'final' | 'snapshot';

interface Pending {
  doc: ExecutionDocument;
  kind: Kind;
  waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>;
}

const MAX_BATCH = 500;

/**
 * Writes rows of `executions` with group commit: a write goes out at once when none is in flight,
 * and everything that arrives meanwhile goes out together in the next one. A Mongo-wire write
 * costs about the same for one row as for a hundred on FerretDB, so under load this turns one
 * write per run into one write per batch, with no added wait when idle. Several writes of the same
 * row while it waits coalesce into the last one (a final row replaces a pending snapshot).
 */
@Injectable()
export class ExecutionWriter implements OnApplicationShutdown {
  private readonly log = new Logger(ExecutionWriter.name);
  private readonly pending = new Map<string, Pending>();
  private flushing: Promise<void> | null = null;

  constructor(private readonly repo: ExecutionRepository) {}

  /** The run's final row; resolves once it is durable. */
  final(doc: ExecutionDocument): Promise<void> {
    return this.enqueue(doc, 'final');
  }

  /** A running run's row (ignored once the final row exists); resolves once written. */
  snapshot(doc: ExecutionDocument): Promise<void> {
    return this.enqueue(doc, 'snapshot');
  }

  private enqueue(doc: ExecutionDocument, kind: Kind): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const known = this.pending.get(doc._id);
      if (known) {
        // A snapshot never replaces a pending final row.
        if (!(known.kind === 'final' && kind === 'snapshot')) {
          known.doc = doc;
          known.kind = kind;
        }
        known.waiters.push({ resolve, reject });
      } else {
        this.pending.set(doc._id, { doc, kind, waiters: [{ resolve, reject }] });
      }
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Rows handed over in this turn of the event loop join the first write.
      await new Promise((r) => setImmediate(r));
      while (this.pending.size > 0) {
        const batch: Pending[] = [];
        for (const [id, p] of this.pending) {
          batch.push(p);
          this.pending.delete(id);
          if (batch.length >= MAX_BATCH) break;
        }
        await this.write(batch);
      }
    })().finally(() => {
      this.flushing = null;
      if (this.pending.size > 0) this.kick();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    const finals = batch.filter((p) => p.kind === 'final');
    const snapshots = batch.filter((p) => p.kind === 'snapshot');
    const outcomes = await Promise.allSettled([
      finals.length ? this.writeFinals(finals) : Promise.resolve(),
      snapshots.length ? this.repo.writeSnapshots(snapshots.map((p) => p.doc)) : Promise.resolve(),
    ]);
    outcomes.forEach((o, i) => {
      const group = i === 0 ? finals : snapshots;
      for (const p of group) {
        for (const w of p.waiters) {
          if (o.status === 'fulfilled') w.resolve();
          else w.reject(o.reason instanceof Error ? o.reason : new Error(String(o.reason)));
        }
      }
      if (o.status === 'rejected') this.log.warn(`writing ${group.length} ${i === 0 ? 'final' : 'snapshot'} rows failed: ${(o.reason as Error).message}`);
    });
  }

  /**
   * One write for the batch; if it fails and holds several rows, each row again on its own, so a
   * row the database refuses (for its content) fails alone, not every run batched with it.
   * Rows written on their own are settled here; the rejection left for the caller is the batch's.
   */
  private async writeFinals(finals: Pending[]): Promise<void> {
    try {
      await this.repo.writeFinals(finals.map((p) => p.doc));
      return;
    } catch (err) {
      if (finals.length === 1) throw err;
    }
    const alone = await Promise.allSettled(finals.map((p) => this.repo.writeFinals([p.doc])));
    alone.forEach((o, i) => {
      for (const w of finals[i].waiters) {
        if (o.status === 'fulfilled') w.resolve();
        else w.reject(o.reason instanceof Error ? o.reason : new Error(String(o.reason)));
      }
    });
    const failed = alone.filter((o) => o.status === 'rejected').length;
    if (failed > 0) this.log.warn(`writing final rows failed for ${failed} of ${finals.length} runs: ${(alone.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason}`);
  }

  async onApplicationShutdown(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
  }
}
