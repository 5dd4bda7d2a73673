import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@toolpath/platform';
import type { GeneratorConfig } from '../generator.config';
import { TextIndex, type TextHit } from '../search/text-index';
import { CatalogRepository, type CatalogEntry } from './catalog.repository';

/** Proven workflows kept per snapshot: more than any prompt shows. */
const PROVEN_KEPT = 200;

/** One tenant's catalog as of `loadedAt`, with a BM25 index over names, descriptions, tags and tools. */
export class CatalogSnapshot {
  readonly byId: ReadonlyMap<string, CatalogEntry>;
  /** Workflows with a known success rate, best first (computed once per snapshot, not per request). */
  readonly proven: CatalogEntry[];
  private readonly index = new TextIndex<CatalogEntry>(['name', 'description', 'tags', 'category', 'tools'], { name: 2, tools: 1.5, tags: 1.5 });

  constructor(
    readonly entries: CatalogEntry[],
    readonly loadedAt: number,
    readonly truncated: boolean,
    /** True for the empty stand-in used while a tenant's first load takes longer than GENERATOR_CATALOG_WAIT_MS. */
    readonly loading = false,
  ) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
    this.index.addAll(entries);
    this.proven = entries
      .filter((e) => e.successRate !== null)
      .sort((a, b) => (b.successRate ?? 0) - (a.successRate ?? 0) || b.runs - a.runs)
      .slice(0, PROVEN_KEPT);
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
    // A tenant's first load scans its whole catalog; a request waits for it only so long, then
    // drafts without the catalog (and says so) while the load goes on.
    const load = this.load(tenantId);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<CatalogSnapshot>((resolve) => {
      timer = setTimeout(() => resolve(new CatalogSnapshot([], Date.now(), false, true)), this.config.GENERATOR_CATALOG_WAIT_MS);
    });
    load.catch((err: unknown) => this.log.warn(`catalog load of ${tenantId} failed: ${(err as Error).message}`));
    try {
      return await Promise.race([load, waited]);
    } finally {
      clearTimeout(timer);
    }
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
