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
 * 16 MB document limit. Every read and delete is by `_id` (FerretDB pushes nothing else down),
 * and a blob is never rewritten in place: a new key is written, then the head row points to it.
 */
export class BlobStore {
  private readonly parts: Collection<BlobPartRow>;

  constructor(
    db: Db,
    private readonly partBytes: number,
  ) {
    this.parts = db.collection<BlobPartRow>(Collections.analyzerBlobs);
  }

  async write(key: string, data: Buffer): Promise<BlobRef> {
    const count = Math.max(1, Math.ceil(data.length / this.partBytes));
    const ops = [];
    for (let i = 0; i < count; i++) {
      const slice = data.subarray(i * this.partBytes, Math.min(data.length, (i + 1) * this.partBytes));
      // Upsert: a retried write after a lost reply must not fail on its own first attempt.
      ops.push({ replaceOne: { filter: { _id: `${key}#${i}` }, replacement: { _id: `${key}#${i}`, data: new Binary(slice) }, upsert: true } });
    }
    await this.parts.bulkWrite(ops, { ordered: false });
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
    const ops = [];
    for (const ref of refs) {
      if (!ref) continue;
      for (let i = 0; i < ref.parts; i++) ops.push({ deleteOne: { filter: { _id: `${ref.key}#${i}` } } });
    }
    if (ops.length > 0) await this.parts.bulkWrite(ops, { ordered: false });
  }
}
