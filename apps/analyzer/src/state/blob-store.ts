import { Binary, type Collection, type Db } from 'mongodb';
import { Collections } from '@toolpath/contracts';

/** Where a blob lives: `parts` documents `_id` `<key>#<i>`. */
export interface BlobRef {
  key: string;
  parts: number;
  bytes: number;
}

interface BlobPartRow {
  _id: string;
  data: Binary;
}

/**
 * Large binary values (snapshots, journal entries, open sessions) split into parts below the
 * 16 MB document limit. Every read and delete is by `_id`, and a blob is never rewritten in
 * place: a new key is written, then the head row points to it.
 *
 * Writes are plain inserts and deletes are one call per batch: FerretDB v1 (PostgreSQL) scans
 * and decodes the whole collection for every filtered operation, `_id` included, so an upsert
 * or a deleteOne costs in proportion to all the blobs stored (tens of ms per operation once a
 * tenant's snapshot is tens of MB), while an insert costs only its own bytes.
 */
export class BlobStore {
  private readonly parts: Collection<BlobPartRow>;

  constructor(
    db: Db,
    private readonly partBytes: number,
  ) {
    this.parts = db.collection<BlobPartRow>(Collections.analyzerBlobs);
  }

  /**
   * Stores `data` under `key`, which must be new (callers make keys unique per write, so no
   * other writer ever uses it): a duplicate-key error can then only be this write's own first
   * attempt, retried after a lost reply, and is taken as success.
   */
  async write(key: string, data: Buffer): Promise<BlobRef> {
    const count = Math.max(1, Math.ceil(data.length / this.partBytes));
    const rows: BlobPartRow[] = [];
    for (let i = 0; i < count; i++) {
      const slice = data.subarray(i * this.partBytes, Math.min(data.length, (i + 1) * this.partBytes));
      rows.push({ _id: `${key}#${i}`, data: new Binary(slice) });
    }
    try {
      await this.parts.insertMany(rows, { ordered: false });
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
    }
    return { key, parts: count, bytes: data.length };
  }

  async read(ref: BlobRef): Promise<Buffer> {
    const rows = await Promise.all(Array.from({ length: ref.parts }, (_, i) => this.parts.findOne({ _id: `${ref.key}#${i}` })));
    const chunks = rows.map((row, i) => {
      if (!row) throw new Error(`blob ${ref.key} is missing part ${i}`);
      return Buffer.from(row.data.buffer);
    });
    const out = Buffer.concat(chunks);
    if (out.length !== ref.bytes) throw new Error(`blob ${ref.key} has ${out.length} bytes, expected ${ref.bytes}`);
    return out;
  }

  /** Best effort: a blob no head points to is garbage, never read again. */
  async delete(refs: Array<BlobRef | null | undefined>): Promise<void> {
    const ids: string[] = [];
    for (const ref of refs) {
      if (!ref) continue;
      for (let i = 0; i < ref.parts; i++) ids.push(`${ref.key}#${i}`);
    }
    // One call (one scan on FerretDB) rather than a deleteOne per part.
    if (ids.length > 0) await this.parts.deleteMany({ _id: { $in: ids } });
  }
}

function onlyDuplicateKeys(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number }> | { code?: number } };
  if (e.writeErrors !== undefined) {
    const list = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
    return list.length > 0 && list.every((w) => w.code === 11000);
  }
  return e.code === 11000;
}
