import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@toolpath/platform';
import type { GeneratorConfig } from '../generator.config';
import { TextIndex, type TextHit } from '../search/text-index';
import { CatalogRepository, type CatalogEntry } from './catalog.repository';

/** One tenant's catalog as of `loadedAt`, with a BM25 index over names, descriptions, tags and tools. */
export class CatalogSnapshot {
  readonly byId: ReadonlyMap<string, CatalogEntry>;
  private readonly index = new TextIndex<CatalogEntry>(['name', 'description', 'tags', 'category', 'tools'], { name: 2, tools: 1.5, tags: 1.5 });

  constructor(
    readonly entries: CatalogEntry[],
    readonly loadedAt: number,
    readonly truncated: boolean,
  ) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
    this.index.addAll(entries);
  }

  search(text: string, limit: number, filter?: (e: CatalogEntry) => boolean): Array<TextHit & { entry: CatalogEntry }> {
    const hits = this.index.search(text, limit, filter ? (id) => filter(this.byId.get(id)!) : undefined);
    return hits.map((h) => ({ ...h, entry: this.byId.get(h.id)! }));
  }
}

/** Tenants whose snapshots are kept at once (least recently used dropped first). */
const MAX_TENANTS = 200;

/**
 * Per-tenant catalog snapshots, so that a generation never scans the catalog on its path: the
 * first request of a tenant loads it; later ones use the snapshot and, once it is older than
 * GENERATOR_CATALOG_TTL_MS, trigger one background reload (stale-while-revalidate). A workflow
 * stored a moment ago may therefore be missing from a draft's candidates for up to the TTL.
 */
@Injectable()
export class CatalogSnapshots {
  private readonly log = new Logger('CatalogSnapshots');
  private readonly snapshots = new Map<string, CatalogSnapshot>();
  private readonly loading = new Map<string, Promise<CatalogSnapshot>>();

  constructor(
    private readonly repo: CatalogRepository,
    @Inject(APP_CONFIG) private readonly config: GeneratorConfig,
  ) {}

  async get(tenantId: string): Promise<CatalogSnapshot> {
    const current = this.snapshots.get(tenantId);
    if (current) {
      this.snapshots.delete(tenantId);
      this.snapshots.set(tenantId, current);
      if (Date.now() - current.loadedAt > this.config.GENERATOR_CATALOG_TTL_MS) {
        this.load(tenantId).catch((err: unknown) => this.log.warn(`catalog refresh of ${tenantId} failed: ${(err as Error).message}`));
      }
      return current;
    }
    return this.load(tenantId);
  }

  /** Drops a tenant's snapshot (after the catalog changed under a test or an apply). */
  invalidate(tenantId: string): void {
    this.snapshots.delete(tenantId);
  }

  private load(tenantId: string): Promise<CatalogSnapshot> {
    const inFlight = this.loading.get(tenantId);
    if (inFlight) return inFlight;
    const p = this.repo
      .entries(tenantId, this.config.GENERATOR_CATALOG_MAX_WORKFLOWS)
      .then(({ entries, truncated }) => {
        const snap = new CatalogSnapshot(entries, Date.now(), truncated);
        this.snapshots.set(tenantId, snap);
        while (this.snapshots.size > MAX_TENANTS) this.snapshots.delete(this.snapshots.keys().next().value!);
        return snap;
      })
      .finally(() => this.loading.delete(tenantId));
    this.loading.set(tenantId, p);
    return p;
  }
}
