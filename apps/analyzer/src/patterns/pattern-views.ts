import { Logger } from '@nestjs/common';
import { decodeKeysetCursor, encodeKeysetCursor, type ListPatternsRequest, type PatternDetail, type PatternSort, type PatternView } from '@toolpath/contracts';
import { inferWorkflow, type InferredWorkflow, type MinedPattern } from '@toolpath/mining';
import type { TenantLearning } from '../state/tenant-learning';

const log = new Logger('PatternViews');

export interface ListingFilter {
  minSupport: number;
  minSuccessRate: number;
  /** Listed patterns appear in at least this share of the tenant's sessions (on top of minSupport). */
  minShare: number;
  /** A sub-pattern within this share of the support of a longer one is not listed separately. */
  closedTolerance: number;
  /** Patterns listed per tenant at most: the best by score (ANALYZER_MAX_PATTERNS). */
  maxPatterns?: number;
}

type ParsedList = Omit<ListPatternsRequest, 'tenantId'> & { sort: PatternSort; limit: number };

/**
 * What is derived from a tenant's counts for reading: the listed patterns and their learned
 * definitions. Recomputed only when the state's revision moved: after a run, by the run itself
 * (its afterRun lists to sync the stored rows), and right after a state is loaded (scheduled on
 * the event loop, not by the first query), so queries are in-memory lookups. The listing is
 * bounded (the best `maxPatterns` by score) and incremental: the counter decides closedness on
 * its trie and re-materialises only the patterns whose figures moved.
 */
export class TenantPatternViews {
  private revision = -1;
  private listed: MinedPattern[] = [];
  private byId = new Map<string, MinedPattern>();
  private readonly definitions = new Map<string, { key: string; inferred: InferredWorkflow }>();

  constructor(
    private readonly state: TenantLearning,
    private readonly filter: ListingFilter,
  ) {
    // A state just loaded is listed off the request path.
    setImmediate(() => {
      try {
        this.patterns();
      } catch (err) {
        log.warn(`listing patterns of ${state.tenantId} failed: ${(err as Error).message}`);
      }
    }).unref();
  }

  /** Patterns passing the configured filters, best score first. */
  patterns(): MinedPattern[] {
    if (this.revision !== this.state.revision) {
      this.listed = this.state.counter.patterns(this.counterFilter());
      this.byId = new Map(this.listed.map((p) => [p.id, p]));
      this.revision = this.state.revision;
    }
    return this.listed;
  }

  /**
   * Rare combinations of unrelated calls and prefixes of sessions that stopped early pass a fixed
   * minimum support on a large tenant; a share of the sessions does not (bench/learning.bench.ts
   * measures precision 0.01 with minSupport 3 alone, ≥ 0.92 with a 1 % share and tolerance 0.1).
   */
  private counterFilter() {
    const f = this.filter;
    return {
      minSupport: Math.max(f.minSupport, Math.ceil(f.minShare * this.state.counter.sessionsSeen)),
      minSuccessRate: f.minSuccessRate,
      closedTolerance: f.closedTolerance,
      ...(f.maxPatterns !== undefined ? { limit: f.maxPatterns } : {}),
    };
  }

  get(id: string): MinedPattern | undefined {
    this.patterns();
    return this.byId.get(id) ?? this.state.counter.pattern(id);
  }

  list(q: ParsedList): { items: PatternView[]; nextCursor: string | null } {
    // A user's or agent's patterns are the listed ones they took part in often enough (from the
    // bounded per-user counts): a filter over the listing, not a new listing per request.
    const minPart = this.counterFilter().minSupport;
    const base = this.patterns().filter(
      (p) => (q.userId === undefined || (p.supportByUser[q.userId] ?? 0) >= minPart) && (q.agentId === undefined || (p.supportByAgent[q.agentId] ?? 0) >= minPart),
    );
    const key = sortKey(q.sort);
    let rows = base.filter(
      (p) =>
        (q.minSupport === undefined || p.support >= q.minSupport) &&
        (q.minSuccessRate === undefined || p.successRate >= q.minSuccessRate) &&
        (q.minConfidence === undefined || p.confidence >= q.minConfidence) &&
        (q.tool === undefined || p.tools.includes(q.tool)),
    );
    rows = rows.sort((a, b) => key(b) - key(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (q.cursor !== undefined) {
      const at = decodeKeysetCursor(q.cursor);
      rows = rows.filter((p) => key(p) < at.value || (key(p) === at.value && p.id > at.id));
    }
    const page = rows.slice(0, q.limit);
    const more = rows.length > q.limit;
    const last = page[page.length - 1];
    return { items: page.map((p) => this.view(p)), nextCursor: more && last ? encodeKeysetCursor(key(last), last.id) : null };
  }

  view(p: MinedPattern): PatternView {
    return {
      ...patternFigures(p),
      firstSeenAt: new Date(p.firstSeenAt).toISOString(),
      lastSeenAt: new Date(p.lastSeenAt).toISOString(),
      promotedWorkflowId: this.state.promoted.get(p.id) ?? null,
    };
  }

  /** The learned definition, inferred once per version of the pattern. */
  inferred(p: MinedPattern): InferredWorkflow {
    const key = `${p.support}|${p.lastSeenAt}|${p.variantIds.length}`;
    const cached = this.definitions.get(p.id);
    if (cached?.key === key) return cached.inferred;
    let inferred: InferredWorkflow;
    try {
      inferred = inferWorkflow(p, this.state.counter.occurrences(p.id));
    } catch (err) {
      log.warn(`inference failed for pattern ${p.id} of ${p.tenantId}, using a plain chain: ${(err as Error).message}`);
      inferred = chainWorkflow(p);
    }
    this.definitions.set(p.id, { key, inferred });
    return inferred;
  }

  detail(p: MinedPattern, examples: number): PatternDetail {
    const inferred = this.inferred(p);
    // Occurrences include the pattern's order variants, and one session can hold both orders:
    // an example is a session, shown once (the most recent first).
    const seen = new Set<string>();
    const occurrences =
      examples > 0
        ? this.state.counter
            .occurrences(p.id)
            .reverse()
            .filter((o) => !seen.has(o.sessionId) && seen.add(o.sessionId))
            .slice(0, examples)
        : [];
    return {
      ...this.view(p),
      workflow: inferred.definition as unknown as Record<string, unknown>,
      bindings: inferred.bindings.map((b) => ({ stepId: b.stepId, parameter: b.parameter, from: b.from })),
      parallelGroups: inferred.parallelGroups,
      examples: occurrences.map((o) => ({
        sessionId: o.sessionId,
        steps: o.steps.map((s) => ({
          tool: s.tool,
          ...(s.parameters !== undefined ? { parameters: s.parameters } : {}),
          ...(s.result !== undefined ? { result: s.result } : {}),
          success: s.success,
          durationMs: s.durationMs,
          startedAt: new Date(s.startedAt).toISOString(),
        })),
      })),
    };
  }
}

/** The figures of a pattern that its API view and its stored row share. */
export function patternFigures(p: MinedPattern) {
  return {
    id: p.id,
    tools: p.tools,
    support: p.support,
    successRate: p.successRate,
    stepSuccessRate: p.stepSuccessRate,
    sessionSuccessRate: p.sessionSuccessRate ?? null,
    meanDurationMs: p.meanDurationMs,
    p95DurationMs: p.p95DurationMs,
    score: p.score,
    confidence: p.confidence,
    intents: p.intents,
    supportByUser: p.supportByUser,
    supportByAgent: p.supportByAgent,
    stepRepeats: p.stepRepeats,
  };
}

function sortKey(sort: PatternSort): (p: MinedPattern) => number {
  switch (sort) {
    case 'support':
      return (p) => p.support;
    case 'confidence':
      return (p) => p.confidence;
    case 'lastSeen':
      return (p) => p.lastSeenAt;
    default:
      return (p) => p.score;
  }
}


/** The definition when inference fails: the tools in order, each after the previous, inputs left open. */
export function chainWorkflow(p: MinedPattern): InferredWorkflow {
  const steps = p.tools.map((tool, i) => ({ id: `s${i + 1}`, tool, parameters: {}, ...(i > 0 ? { dependsOn: [`s${i}`] } : {}) }));
  return {
    definition: {
      name: p.tools.join(' → ').slice(0, 200),
      description: `Learned from ${p.support} sessions`,
      source: 'learned',
      steps,
    } as unknown as InferredWorkflow['definition'],
    bindings: [],
    parallelGroups: [],
  };
}
