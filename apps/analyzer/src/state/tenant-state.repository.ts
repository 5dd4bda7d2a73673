import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Logger } from '@nestjs/common';
import type { Collection, Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';
import { NextStepModel, PatternCounter, applyOpenChanges, type ClosedSession, type OpenSessionState } from '@toolpath/mining';
import { LearningStats, type LearningStatsState } from '../stats/learning-stats';
import { BlobStore, type BlobRef } from './blob-store';
import { TenantLearning, newAssembler, type LearningOptions, type PersistedMeta } from './tenant-learning';

/** One row per tenant in `analyzer_state` (`_id` = tenantId): where its learned state is. */
interface TenantStateRow {
  _id: string;
  tenantId: string;
  version: number;
  promotedRev: number;
  watermark: number;
  snapshot: BlobRef | null;
  journal: BlobRef[];
  journalBytes: number;
  /** The open sessions as of some persist (the base)... */
  open: BlobRef | null;
  /** ...and the changes since, in order (absent in rows written before them: none). */
  openChanges?: BlobRef[];
  openChangeBytes?: number;
  openSessions: number;
  lastArrivalAt: number;
  /** The tenant's arrival clock (absent in rows written before it; `maxEventTime` was an event-time clock). */
  arrivalClock?: number;
  /** When the first open session is over on the arrival clock (null: none open). */
  nextCloseAt?: number | null;
  promoted: Record<string, string>;
  lastFullRunId: string | null;
  updatedAt: Date;
}

/** The stream position every tenant's state has reached (`_id` `#cursor`: no tenant id has a '#'). */
interface CursorRow {
  _id: string;
  stream: string;
  streamCreated: string | null;
  streamWatermark: number;
  version: number;
  lastRunId: string | null;
  updatedAt: Date;
}

export interface StreamCursor {
  stream: string;
  /** Creation time of the stream the watermarks refer to (a re-created stream restarts its sequence). */
  streamCreated: string | null;
  streamWatermark: number;
  version: number;
  lastRunId: string | null;
}

const CURSOR_ID = '#cursor';
/** A journal smaller than this never triggers a snapshot on its own. */
const MIN_COMPACT_BYTES = 1024 * 1024;
/**
 * A persist that defers compaction (a run's steps: the run compacts after it has answered) still
 * compacts once the journal is this many times past the due point, so a long run (a backlog)
 * keeps the journal, and the replay when loading, bounded.
 */
const DEFERRED_COMPACT_FACTOR = 4;
/** Open-session changes smaller than this never trigger a new base on their own. */
const MIN_OPEN_REBASE_BYTES = 1024 * 1024;
/** Superseded blobs waiting for `collectGarbage` at most (beyond, the oldest are forgotten: orphans, never read). */
const MAX_GARBAGE = 100_000;

/** Another analyzer wrote the same state since it was read: this run must stop and reload. */
export class StateConflictError extends Error {
  constructor(what: string) {
    super(`${what} was changed by another analyzer; the run stops and the next one reloads it`);
    this.name = 'StateConflictError';
  }
}

/**
 * The analyzer's durable state. A tenant's state is a snapshot (pattern counts and statistics),
 * a journal of the sessions closed since the snapshot, and its open sessions: a base and the
 * changes since (sessions written again whole, sessions gone). A run appends one journal entry
 * and one change record per tenant it touched, so its cost follows the new events, not the
 * history (nor the sessions left open: ~10 % never send a session_end and stay open for the idle
 * window); once the journal, or the changes, reach a fraction of the snapshot, or of the base,
 * they are folded into a new one (amortised).
 * Blobs are written first under new keys, then the head row moves to them in one conditional
 * update, so a crash at any point leaves the previous state whole.
 */
export class TenantStateRepository {
  private readonly heads: Collection<TenantStateRow>;
  private readonly cursors: Collection<CursorRow>;
  readonly blobs: BlobStore;
  /** Blobs no head points to any more, deleted by `collectGarbage` after the run has answered. */
  private garbage: BlobRef[] = [];

  constructor(
    db: Db,
    partBytes: number,
    private readonly compactRatio: number,
  ) {
    this.heads = db.collection<TenantStateRow>(Collections.analyzerState);
    this.cursors = db.collection<CursorRow>(Collections.analyzerState);
    this.blobs = new BlobStore(db, partBytes);
  }

  async promotedOf(tenantId: string): Promise<{ promoted: Map<string, string>; promotedRev: number }> {
    const row = await this.heads.findOne({ _id: tenantId }, { projection: { promoted: 1, promotedRev: 1 } });
    return { promoted: new Map(Object.entries(row?.promoted ?? {})), promotedRev: row?.promotedRev ?? 0 };
  }

  async headMeta(tenantId: string): Promise<{ version: number; promotedRev: number } | null> {
    const row = await this.heads.findOne({ _id: tenantId }, { projection: { version: 1, promotedRev: 1 } });
    return row ? { version: row.version, promotedRev: row.promotedRev ?? 0 } : null;
  }

  async load(tenantId: string, opts: LearningOptions): Promise<TenantLearning> {
    const row = await this.heads.findOne({ _id: tenantId });
    if (!row) return TenantLearning.fresh(tenantId, opts);
    let counter: PatternCounter;
    let stats: LearningStats;
    let nextSteps: NextStepModel | undefined;
    if (row.snapshot) {
      const decoded = decodeSnapshot(await this.blobs.read(row.snapshot));
      counter = PatternCounter.fromSnapshot(decoded.counter);
      if (counter.rebuiltFromFormat) new Logger('TenantStateRepository').warn(`tenant ${tenantId}: mining snapshot of format ${counter.rebuiltFromFormat} recounted from its ${counter.sessionsSeen} stored sessions (patterns now count a loop of one tool as one step)`);
      stats = LearningStats.fromState(decoded.stats);
      // A snapshot written before the next-step model existed has none: it starts empty, learns from
      // the journal and the sessions closed from now on (a full rebuild restores it whole), and
      // predictions fall back to the pattern counts until it has counted a session.
      if (decoded.nextSteps) nextSteps = NextStepModel.fromSnapshot(decoded.nextSteps);
      else new Logger('TenantStateRepository').warn(`tenant ${tenantId}: snapshot without a next-step model; it starts empty (a full rebuild restores it)`);
    } else {
      counter = new PatternCounter({ ...opts.mining, tenantId });
      stats = new LearningStats();
    }
    const openChanges = row.openChanges ?? [];
    let open = row.open ? (decodeCompressedJson(await this.blobs.read(row.open)) as OpenSessionState[]) : undefined;
    if (openChanges.length > 0) {
      const changes: OpenChangesRecord[] = [];
      for (const ref of openChanges) changes.push(decodeOpenChanges(await this.blobs.read(ref)));
      open = applyOpenChanges(open ?? [], changes);
    }
    const meta: PersistedMeta = { version: row.version, promotedRev: row.promotedRev ?? 0, snapshot: row.snapshot, journal: row.journal ?? [], open: row.open, openChanges };
    // Open sessions saved before arrival times were kept are taken as arrived when last read.
    const assembler = newAssembler(opts, open, row.lastArrivalAt);
    const state = new TenantLearning(tenantId, assembler, counter, stats, row.watermark, row.lastArrivalAt, row.arrivalClock ?? row.lastArrivalAt ?? 0, meta);
    if (nextSteps) state.nextSteps = nextSteps;
    // Entries are read one at a time and replayed in order: the journal is bounded by the
    // compaction ratio, but reading it all at once would double the peak memory.
    for (const ref of meta.journal) {
      const sessions = decodeJournalEntry(await this.blobs.read(ref));
      for (const s of sessions) state.countSession(s);
    }
    state.promoted = new Map(Object.entries(row.promoted ?? {}));
    state.lastFullRunId = row.lastFullRunId ?? null;
    return state;
  }

  /**
   * Writes what changed since the last persist: one journal entry (the sessions closed since),
   * one record of the open sessions changed (or all of them as a new base, when the changes have
   * grown enough or the assembler cannot describe them as changes), and (when the journal has
   * grown enough, or `snapshot` is asked) a new snapshot that replaces the journal. Throws
   * StateConflictError when the row moved meanwhile.
   */
  async persist(
    state: TenantLearning,
    opts: {
      snapshot?: boolean;
      /** Write the open sessions as a new base, whatever their changes weigh. */
      openBase?: boolean;
      fullRunId?: string;
      /** A run's step: compact only far past the due point, leave superseded blobs to collectGarbage(). */
      deferCompaction?: boolean;
    } = {},
  ): Promise<{ compacted: boolean }> {
    try {
      return await this.write(state, opts);
    } catch (err) {
      // The stored open sessions may or may not have moved: the next persist writes them whole.
      state.assembler.openSaveFailed();
      throw err;
    }
  }

  private async write(state: TenantLearning, opts: { snapshot?: boolean; openBase?: boolean; fullRunId?: string; deferCompaction?: boolean }): Promise<{ compacted: boolean }> {
    const t = state.tenantId;
    const prev = state.meta;
    const next = prev.version + 1;
    // Keys unique per write: a writer that loses the race for `next` never touches the winner's blobs.
    const tag = `${next}:${randomBytes(4).toString('hex')}`;
    const written: BlobRef[] = [];
    try {
      let journal = prev.journal;
      if (state.unpersisted.length > 0 && !opts.snapshot) {
        const entry = await this.blobs.write(`${t}:j:${tag}`, encodeJournalEntry(state.unpersisted));
        written.push(entry);
        journal = [...journal, entry];
      }
      const journalBytes = journal.reduce((n, r) => n + r.bytes, 0);
      const compact = opts.snapshot === true || journalBytes > this.compactionDueAt(prev) * (opts.deferCompaction ? DEFERRED_COMPACT_FACTOR : 1);
      let snapshot = prev.snapshot;
      if (compact) {
        snapshot = await this.blobs.write(`${t}:s:${tag}`, encodeSnapshot(state.stats.toState(), state.counter.toSnapshot(), state.nextSteps.toSnapshot()));
        written.push(snapshot);
        journal = [];
      }
      const changes = state.assembler.takeOpenChanges();
      let open = prev.open;
      let openChanges = prev.openChanges;
      let rebased = changes.full || opts.openBase === true;
      if (!changes.full && !rebased && (changes.upserts.length > 0 || changes.removed.length > 0)) {
        const record = encodeOpenChanges({ upserts: changes.upserts, removed: changes.removed });
        rebased = sumBytes(openChanges) + record.length > this.openRebaseDueAt(prev) * (opts.deferCompaction ? DEFERRED_COMPACT_FACTOR : 1);
        if (!rebased) {
          const ref = await this.blobs.write(`${t}:oc:${tag}`, record);
          written.push(ref);
          openChanges = [...openChanges, ref];
        }
      }
      if (rebased) {
        open = await this.blobs.write(`${t}:o:${tag}`, encodeCompressedJson(state.assembler.openSessions()));
        written.push(open);
        openChanges = [];
      }
      const fields = {
        tenantId: t,
        version: next,
        watermark: state.watermark,
        snapshot,
        journal,
        journalBytes: journal.reduce((n, r) => n + r.bytes, 0),
        open,
        openChanges,
        openChangeBytes: sumBytes(openChanges),
        openSessions: state.assembler.openCount,
        lastArrivalAt: state.lastArrivalAt,
        arrivalClock: state.arrivalClock,
        nextCloseAt: storableTime(state.assembler.nextCloseAt()),
        lastFullRunId: opts.fullRunId ?? state.lastFullRunId,
        updatedAt: new Date(),
      };
      if (prev.version === 0) {
        try {
          await this.heads.insertOne({ _id: t, promotedRev: 0, promoted: Object.fromEntries(state.promoted), ...fields });
        } catch (err) {
          if ((err as { code?: number }).code === 11000) throw new StateConflictError(`tenant ${t}'s state`);
          throw err;
        }
      } else {
        const res = await this.heads.updateOne({ _id: t, version: prev.version }, { $set: fields });
        if (res.matchedCount === 0) throw new StateConflictError(`tenant ${t}'s state`);
      }
      state.meta = { version: next, promotedRev: prev.promotedRev, snapshot, journal, open, openChanges };
      state.unpersisted = [];
      if (rebased) state.assembler.openSaved();
      if (opts.fullRunId) state.lastFullRunId = opts.fullRunId;
      const superseded = [...(rebased ? [prev.open, ...prev.openChanges] : []), ...(compact ? [prev.snapshot, ...prev.journal] : [])].filter((r): r is BlobRef => r !== null && r !== undefined);
      // A delete scans the whole blob collection on FerretDB (hundreds of ms once snapshots are
      // tens of MB): a run's steps leave it for one batch after the run has answered.
      if (opts.deferCompaction) this.addGarbage(superseded);
      else await this.blobs.delete(superseded).catch(() => undefined);
      return { compacted: compact };
    } catch (err) {
      await this.blobs.delete(written).catch(() => undefined);
      throw err;
    }
  }

  /** Deletes the blobs superseded since the last call, in one operation; best effort (an orphan is never read). */
  async collectGarbage(): Promise<number> {
    const refs = this.garbage;
    if (refs.length === 0) return 0;
    this.garbage = [];
    try {
      await this.blobs.delete(refs);
    } catch {
      this.addGarbage(refs);
      return 0;
    }
    return refs.length;
  }

  private addGarbage(refs: BlobRef[]): void {
    this.garbage.push(...refs);
    if (this.garbage.length > MAX_GARBAGE) this.garbage.splice(0, this.garbage.length - MAX_GARBAGE);
  }

  /** Journal bytes past which the journal is folded into a new snapshot. */
  private compactionDueAt(meta: PersistedMeta): number {
    return this.compactRatio * Math.max(meta.snapshot?.bytes ?? 0, MIN_COMPACT_BYTES);
  }

  /** Open-session change bytes past which the open sessions are written as a new base. */
  private openRebaseDueAt(meta: PersistedMeta): number {
    return this.compactRatio * Math.max(meta.open?.bytes ?? 0, MIN_OPEN_REBASE_BYTES);
  }

  /**
   * Writes a new snapshot when the journal has grown past ANALYZER_COMPACT_RATIO of the snapshot,
   * and a new base of the open sessions when their changes have grown past that ratio of the base
   * (what `persist` does at once unless told to defer); true when it wrote a snapshot.
   */
  async compactIfDue(state: TenantLearning): Promise<boolean> {
    const snapshot = sumBytes(state.meta.journal) > this.compactionDueAt(state.meta);
    const openBase = sumBytes(state.meta.openChanges) > this.openRebaseDueAt(state.meta);
    if (!snapshot && !openBase) return false;
    await this.persist(state, { snapshot, openBase });
    return snapshot;
  }

  /** Tenants with an open session over at `arrivalClock` (the event source vouches no earlier arrival is unread). */
  async tenantsDueAt(arrivalClock: number): Promise<string[]> {
    const rows = await this.heads.find({ openSessions: { $gt: 0 }, nextCloseAt: { $lte: arrivalClock } }, { projection: { _id: 1 } }).toArray();
    return rows.map((r) => r._id).filter((id) => id !== CURSOR_ID);
  }

  /** Tenants whose open sessions have had no event since `before` (wall clock): due to close. */
  async quietTenants(before: number): Promise<string[]> {
    const rows = await this.heads.find({ openSessions: { $gt: 0 }, lastArrivalAt: { $lt: before } }, { projection: { _id: 1 } }).toArray();
    return rows.map((r) => r._id).filter((id) => id !== CURSOR_ID);
  }

  /**
   * The stream was re-created (its sequence restarted): every stored watermark refers to the old
   * one. They go back to 0 (the version moves, so every analyzer reloads).
   */
  async resetWatermarks(): Promise<void> {
    await this.heads.updateMany({ _id: { $ne: CURSOR_ID } }, { $set: { watermark: 0 }, $inc: { version: 1 } });
  }

  /** Records a promotion; false when the tenant has no learned state. */
  async markPromoted(tenantId: string, patternId: string, workflowId: string): Promise<boolean> {
    const res = await this.heads.updateOne({ _id: tenantId }, { $set: { [`promoted.${patternId}`]: workflowId }, $inc: { promotedRev: 1 } });
    return res.matchedCount > 0;
  }

  async readCursor(stream: string): Promise<StreamCursor> {
    const row = await this.cursors.findOne({ _id: CURSOR_ID });
    if (!row) return { stream, streamCreated: null, streamWatermark: 0, version: 0, lastRunId: null };
    return { stream: row.stream, streamCreated: row.streamCreated ?? null, streamWatermark: row.streamWatermark, version: row.version, lastRunId: row.lastRunId };
  }

  /** Moves the stream watermark forward from the version read; StateConflictError otherwise. */
  async writeCursor(prev: StreamCursor, streamWatermark: number, lastRunId: string | null, streamCreated = prev.streamCreated): Promise<StreamCursor> {
    const next: StreamCursor = { stream: prev.stream, streamCreated, streamWatermark, version: prev.version + 1, lastRunId };
    const row = { ...next, updatedAt: new Date() };
    if (prev.version === 0) {
      try {
        await this.cursors.insertOne({ _id: CURSOR_ID, ...row });
      } catch (err) {
        if ((err as { code?: number }).code === 11000) throw new StateConflictError('the stream cursor');
        throw err;
      }
    } else {
      const res = await this.cursors.updateOne({ _id: CURSOR_ID, version: prev.version }, { $set: row });
      if (res.matchedCount === 0) throw new StateConflictError('the stream cursor');
    }
    return next;
  }
}

/** A time for the head row: PostgreSQL under FerretDB stores no infinity (-Infinity: due at any time). */
function storableTime(t: number | undefined): number | null {
  if (t === undefined || Number.isNaN(t)) return null;
  return Number.isFinite(t) ? t : t < 0 ? 0 : null;
}

function sumBytes(refs: BlobRef[]): number {
  return refs.reduce((n, r) => n + r.bytes, 0);
}

const JOURNAL_MAGIC = Buffer.from('TPJ1');

/**
 * A journal entry: "TPJ1" then the raw-deflated JSON of the sessions (level 1: a few ms per MB,
 * and 5-10x fewer bytes to store and to weigh against the compressed snapshot). Entries written
 * before this format are plain JSON and still read.
 */
export function encodeJournalEntry(sessions: ClosedSession[]): Buffer {
  return encodeCompressedJson(sessions);
}

export function decodeJournalEntry(buf: Buffer): ClosedSession[] {
  return decodeCompressedJson(buf) as ClosedSession[];
}

/**
 * JSON, raw-deflated (level 1: ~6-8x smaller for about the time JSON.stringify takes) behind a
 * magic; blobs written as plain JSON before still read. The journal entries and the open sessions
 * are written at every persist step: the open sessions of a busy tenant (every session without a
 * session_end stays open for the idle window of arrival time) were tens of MB of plain JSON.
 */
function encodeCompressedJson(value: unknown): Buffer {
  return Buffer.concat([JOURNAL_MAGIC, deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8'), { level: 1 })]);
}

function decodeCompressedJson(buf: Buffer): unknown {
  const json = buf.subarray(0, 4).equals(JOURNAL_MAGIC) ? inflateRawSync(buf.subarray(4)) : buf;
  return JSON.parse(json.toString('utf8')) as unknown;
}

/** One change record of the open sessions: sessions written again whole, sessions no longer open. */
export interface OpenChangesRecord {
  upserts: OpenSessionState[];
  removed: Array<{ tenantId: string; sessionId: string }>;
}

export function encodeOpenChanges(record: OpenChangesRecord): Buffer {
  return encodeCompressedJson(record);
}

export function decodeOpenChanges(buf: Buffer): OpenChangesRecord {
  const r = decodeCompressedJson(buf) as Partial<OpenChangesRecord>;
  return { upserts: r.upserts ?? [], removed: r.removed ?? [] };
}

/**
 * `[u32 header length][header JSON][counter snapshot][next-step model]`: the counter's and the
 * model's own formats stay opaque; the header says how long the model part is (snapshots written
 * before it have none and still read).
 */
export function encodeSnapshot(stats: LearningStatsState, counter: Buffer, nextSteps?: Buffer): Buffer {
  const header = Buffer.from(JSON.stringify({ format: 1, stats, ...(nextSteps ? { nextStepsBytes: nextSteps.length } : {}) }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  return Buffer.concat([len, header, counter, ...(nextSteps ? [nextSteps] : [])]);
}

export function decodeSnapshot(buf: Buffer): { stats: LearningStatsState; counter: Buffer; nextSteps?: Buffer } {
  const len = buf.readUInt32BE(0);
  const header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as { format: number; stats: LearningStatsState; nextStepsBytes?: number };
  if (header.format !== 1) throw new Error(`unknown snapshot format ${header.format}`);
  const modelBytes = typeof header.nextStepsBytes === 'number' && header.nextStepsBytes > 0 && header.nextStepsBytes <= buf.length - 4 - len ? header.nextStepsBytes : 0;
  return { stats: header.stats, counter: buf.subarray(4 + len, buf.length - modelBytes), ...(modelBytes > 0 ? { nextSteps: buf.subarray(buf.length - modelBytes) } : {}) };
}
