/** Variants kept; when twice as many are held, the table is cut back to the most frequent ones. */
export const MAX_VARIANTS = 5000;
/** Tools of a variant kept for display (its id and length cover the whole sequence). */
export const MAX_VARIANT_TOOLS = 100;

export interface VariantAcc {
  /** First MAX_VARIANT_TOOLS tool ids. */
  tools: number[];
  length: number;
  count: number;
  ok: number;
  durationSum: number;
  /** False for a variant first listed after a cut: earlier occurrences (at most the floor then) were not counted. */
  exact: boolean;
}

export interface VariantTableJson {
  floor: number;
  dropped: number;
  /** [id, length, count, ok, durationSum, exact (0/1), tools] */
  items: Array<[string, number, number, number, number, number, number[]]>;
}

/**
 * A variant's id: a 64-bit hash of the tool sequence (16 hex digits), the same across rebuilds and
 * instances. Two multiplicative 32-bit hashes (cyrb53's mixing) over every character, with the
 * sequence length and a separator per tool, so `["ab"]` and `["a","b"]` differ; a collision needs
 * two sequences agreeing on 64 bits (≈ 1 in 10^11 for 10,000 variants). Not SHA-1: hashing every
 * session that way cost a third of the process map's counting time on the loan log.
 */
export function variantId(tools: string[]): string {
  let h1 = 0xdeadbeef ^ tools.length;
  let h2 = 0x41c6ce57 ^ tools.length;
  for (const t of tools) {
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ 0xffff, 2654435761);
    h2 = Math.imul(h2 ^ 0xffff, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/**
 * Distinct tool sequences of the tenant's sessions with their counts. Bounded as `TopK` is: up to
 * 2 × MAX_VARIANTS are counted exactly; then the table is cut back to the MAX_VARIANTS most frequent
 * and the sessions of the variants cut are counted as `dropped`. A variant kept through every cut
 * has its exact count; one first seen after a cut is marked inexact.
 */
export class VariantTable {
  readonly variants = new Map<string, VariantAcc>();
  /** Largest count cut so far. */
  floor = 0;
  /** Sessions whose variant was cut. */
  dropped = 0;

  add(id: string, tools: number[], ok: boolean, durationMs: number): void {
    let v = this.variants.get(id);
    if (!v) {
      if (this.variants.size >= 2 * MAX_VARIANTS) this.cut();
      this.variants.set(id, (v = { tools: tools.slice(0, MAX_VARIANT_TOOLS), length: tools.length, count: 0, ok: 0, durationSum: 0, exact: this.floor === 0 }));
    }
    v.count++;
    if (ok) v.ok++;
    v.durationSum += durationMs;
  }

  private cut(): void {
    const sorted = [...this.variants].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1));
    for (let i = MAX_VARIANTS; i < sorted.length; i++) {
      const [id, v] = sorted[i];
      this.floor = Math.max(this.floor, v.count);
      this.dropped += v.count;
      this.variants.delete(id);
    }
  }

  toJSON(): VariantTableJson {
    return { floor: this.floor, dropped: this.dropped, items: [...this.variants].map(([id, v]) => [id, v.length, v.count, v.ok, v.durationSum, v.exact ? 1 : 0, v.tools]) };
  }

  static fromJSON(j: VariantTableJson): VariantTable {
    const t = new VariantTable();
    t.floor = j.floor;
    t.dropped = j.dropped;
    for (const [id, length, count, ok, durationSum, exact, tools] of j.items) t.variants.set(id, { tools, length, count, ok, durationSum, exact: exact === 1 });
    return t;
  }
}
