import { Inject, Injectable } from '@nestjs/common';
import { resolveMiningOptions } from '@toolpath/mining';
import { APP_CONFIG } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import { TenantPatternViews } from '../patterns/pattern-views';
import { TenantLearning, type LearningOptions } from './tenant-learning';
import { TenantStateRepository } from './tenant-state.repository';

/** A tenant's state held in memory, with what is derived from it. */
export interface TenantEntry {
  state: TenantLearning;
  views: TenantPatternViews;
  /** Signatures of the rows last written to `patterns` (undefined until the first sync). */
  written?: Map<string, string>;
  checkedAt: number;
}

export function learningOptions(c: AnalyzerConfig): LearningOptions {
  return {
    mining: resolveMiningOptions({
      minSteps: c.ANALYZER_MIN_STEPS,
      maxSteps: Math.max(c.ANALYZER_MAX_STEPS, c.ANALYZER_MIN_STEPS),
      maxPatternSteps: Math.max(c.ANALYZER_MAX_PATTERN_STEPS, c.ANALYZER_MAX_STEPS, c.ANALYZER_MIN_STEPS),
      maxGap: c.ANALYZER_MAX_GAP,
      minSupport: c.ANALYZER_MIN_SUPPORT,
      minSuccessRate: c.ANALYZER_MIN_SUCCESS_RATE,
      sessionIdleMs: c.ANALYZER_SESSION_IDLE_MS,
      examplesPerPattern: c.ANALYZER_EXAMPLES_PER_PATTERN,
      maxSessionSteps: c.ANALYZER_MAX_STEPS_PER_SESSION,
    }),
    maxStepsPerSession: c.ANALYZER_MAX_STEPS_PER_SESSION,
    sessionEndGraceMs: c.ANALYZER_SESSION_END_GRACE_MS,
  };
}

/**
 * Tenants' learned state, cached in memory between runs so a run costs what its new events cost.
 * Another analyzer may have run since (they take turns): before a run uses a tenant, and at most
 * every ANALYZER_STATE_CHECK_MS before a query does, the stored version is compared (one `_id`
 * read) and the state reloaded when it moved.
 */
@Injectable()
export class TenantStates {
  readonly options: LearningOptions;
  private readonly entries = new Map<string, TenantEntry>();
  private readonly loading = new Map<string, Promise<TenantEntry>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    private readonly repo: TenantStateRepository,
  ) {
    this.options = learningOptions(config);
  }

  /** Current state for a run (always checked against the store). */
  forRun(tenantId: string): Promise<TenantEntry> {
    return this.current(tenantId, 0);
  }

  /** State for a query: checked against the store at most every ANALYZER_STATE_CHECK_MS. */
  forRead(tenantId: string): Promise<TenantEntry> {
    return this.current(tenantId, this.config.ANALYZER_STATE_CHECK_MS);
  }

  cached(tenantId: string): TenantEntry | undefined {
    return this.entries.get(tenantId);
  }

  cachedTenants(): TenantEntry[] {
    return [...this.entries.values()];
  }

  /** Drops a tenant whose in-memory state may be ahead of the store (a failed persist). */
  evict(tenantId: string): void {
    this.entries.delete(tenantId);
  }

  evictAll(): void {
    this.entries.clear();
  }

  /** Installs a state built elsewhere (a full rebuild that was just persisted). */
  install(state: TenantLearning): TenantEntry {
    const entry = this.entry(state);
    this.entries.set(state.tenantId, entry);
    return entry;
  }

  private async current(tenantId: string, maxAgeMs: number): Promise<TenantEntry> {
    const cached = this.entries.get(tenantId);
    if (cached && Date.now() - cached.checkedAt < maxAgeMs) return cached;
    const inFlight = this.loading.get(tenantId);
    if (inFlight) return inFlight;
    const p = this.refresh(tenantId, cached).finally(() => this.loading.delete(tenantId));
    this.loading.set(tenantId, p);
    return p;
  }

  private async refresh(tenantId: string, cached: TenantEntry | undefined): Promise<TenantEntry> {
    const meta = await this.repo.headMeta(tenantId);
    const version = meta?.version ?? 0;
    if (cached && cached.state.meta.version === version) {
      if (meta && meta.promotedRev !== cached.state.meta.promotedRev) {
        // Only a promotion changed: reload that map, not the counts.
        const p = await this.repo.promotedOf(tenantId);
        cached.state.promoted = p.promoted;
        cached.state.meta.promotedRev = p.promotedRev;
        cached.state.revision++;
      }
      cached.checkedAt = Date.now();
      return cached;
    }
    const state = await this.repo.load(tenantId, this.options);
    const entry = this.entry(state);
    this.entries.set(tenantId, entry);
    return entry;
  }

  private entry(state: TenantLearning): TenantEntry {
    return {
      state,
      views: new TenantPatternViews(state, {
        minSupport: this.config.ANALYZER_MIN_SUPPORT,
        minSuccessRate: this.config.ANALYZER_MIN_SUCCESS_RATE,
        minShare: this.config.ANALYZER_MIN_SUPPORT_SHARE,
        closedTolerance: this.config.ANALYZER_CLOSED_TOLERANCE,
        maxPatterns: this.config.ANALYZER_MAX_PATTERNS,
      }),
      checkedAt: Date.now(),
    };
  }
}
