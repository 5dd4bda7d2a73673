import { Inject, Injectable, Logger } from '@nestjs/common';
import type { SuggestionsView } from '@toolpath/contracts';
import { predictNextSteps } from '@toolpath/mining';
import { APP_CONFIG } from '@toolpath/platform';
import { stepToolSequence } from '@toolpath/workflow';
import { patternTag, promotedPatternOf } from '@toolpath/workflow-store';
import type { AnalyzerConfig } from '../analyzer.config';
import { AnalyzerMetrics } from '../analyzer.metrics';
import { TenantStates, type TenantEntry } from '../state/tenant-states.service';
import { CatalogReader, type CatalogWorkflow } from './catalog.reader';
import { SuggestionIndex, patternDoc, type SuggestDoc, type SuggestQuery } from './suggestion-index';

interface TenantIndex {
  index: SuggestionIndex;
  /** The state revision the learned documents were built from. */
  revision: number;
  catalog: CatalogWorkflow[];
  catalogReadAt: number;
}

/**
 * Suggestions per tenant, from an in-memory index rebuilt when the tenant's learned state moved
 * (after a run) and when its catalog read is older than ANALYZER_CATALOG_REFRESH_MS.
 */
@Injectable()
export class SuggestionsService {
  private readonly log = new Logger('Suggestions');
  private readonly indexes = new Map<string, TenantIndex>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnalyzerConfig,
    private readonly catalog: CatalogReader,
    private readonly states: TenantStates,
    private readonly metrics: AnalyzerMetrics,
  ) {}

  async suggest(tenantId: string, q: SuggestQuery): Promise<SuggestionsView> {
    const started = performance.now();
    const entry = await this.states.forRead(tenantId);
    const index = await this.indexFor(entry);
    const items = index.query(q);
    let nextSteps: SuggestionsView['nextSteps'] = [];
    if (q.tools.length > 0) {
      try {
        nextSteps = predictNextSteps({ model: entry.state.nextSteps, counter: entry.state.counter }, q.tools, 5, q.intent);
      } catch (err) {
        this.log.warn(`next-step prediction failed for ${tenantId}: ${(err as Error).message}`);
      }
    }
    this.metrics.suggestSeconds.observe((performance.now() - started) / 1000);
    return { items, nextSteps };
  }

  /** Rebuilds a tenant's index now (after a run), so the first query after it pays nothing. */
  async refresh(tenantId: string): Promise<void> {
    const entry = this.states.cached(tenantId);
    if (entry) await this.indexFor(entry);
  }

  private async indexFor(entry: TenantEntry): Promise<SuggestionIndex> {
    const tenantId = entry.state.tenantId;
    const current = this.indexes.get(tenantId);
    const catalogStale = !current || Date.now() - current.catalogReadAt >= this.config.ANALYZER_CATALOG_REFRESH_MS;
    if (current && !catalogStale && current.revision === entry.state.revision) return current.index;
    const catalog = catalogStale ? await this.catalog.list(tenantId) : current!.catalog;
    const catalogReadAt = catalogStale ? Date.now() : current!.catalogReadAt;
    const revision = entry.state.revision;
    // Similar sessions are read from the live model at query time (it moves with every run).
    const index = new SuggestionIndex(buildDocs(entry, catalog, this.config.ANALYZER_CONFIDENCE_THRESHOLD), {
      similarSessions: (intent) => entry.state.nextSteps.similarSessions(intent),
    });
    this.indexes.set(tenantId, { index, revision, catalog, catalogReadAt });
    return index;
  }
}

/**
 * Catalog workflows (user, generated, template) and learned patterns above the threshold. A
 * catalog workflow promoted from a pattern is that pattern's document (it keeps the pattern's
 * evidence and the catalog id), not a second one.
 */
export function buildDocs(entry: TenantEntry, catalog: CatalogWorkflow[], threshold: number): SuggestDoc[] {
  const patterns = entry.views.patterns();
  const byTools = new Map<string, (typeof patterns)[number]>();
  for (const p of patterns) {
    const k = p.tools.join('\u0001');
    const seen = byTools.get(k);
    if (!seen || seen.support < p.support) byTools.set(k, p);
  }
  const promotedIds = new Set(entry.state.promoted.keys());
  const docs: SuggestDoc[] = [];
  for (const w of catalog) {
    const promotedFrom = w.source === 'learned' ? promotedPatternOf(w.tags) : undefined;
    if (promotedFrom && promotedIds.has(promotedFrom) && patterns.some((p) => p.id === promotedFrom)) continue;
    // Matched as a sequence of calls (a pattern's shape, and the "continues your last calls" match): the steps' tools.
    const steps = stepToolSequence(w.definition);
    // The intents of the sessions behind a catalog workflow: those of the pattern with its tools.
    const behind = byTools.get(steps.join('\u0001'));
    const text = [w.name, w.description, w.tags.filter((t) => t !== patternTag(promotedFrom ?? '')).join(' '), ...(behind?.intents.map((i) => i.text) ?? [])].join(' \n ');
    docs.push({
      key: `w:${w.id}`,
      kind: 'catalog',
      workflowId: w.id,
      source: w.source,
      name: w.name,
      ...(w.description ? { description: w.description } : {}),
      tools: steps,
      confidence: behind?.confidence ?? null,
      support: behind?.support ?? 0,
      successRate: behind?.successRate ?? null,
      text,
      ...(behind?.intents[0] ? { topIntent: behind.intents[0].text } : {}),
      supportByUser: {},
      supportByAgent: {},
      workflow: { ...w.definition, id: w.id },
    });
  }
  for (const p of patterns) {
    if (p.confidence < threshold) continue;
    const workflow = entry.views.inferred(p).definition as unknown as Record<string, unknown>;
    docs.push(patternDoc(p, workflow, entry.state.promoted.get(p.id)));
  }
  return docs;
}
