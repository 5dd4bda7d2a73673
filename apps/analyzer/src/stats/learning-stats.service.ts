import { Inject, Injectable } from '@nestjs/common';
import type { AnalyzerRunView, FlowStatsView, IntentStatsView, LearningHealthView, PatternStatsView, VariantPageView } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import type { AnalyzerConfig } from '../analyzer.config';
import type { TenantEntry } from '../state/tenant-states.service';
import type { FlowFilter } from './flow-stats';
import { normaliseIntent } from './learning-stats';

const TOP_CANDIDATES = 10;

/** Statistics per pattern, per intent, and the tenant's health summary, from its in-memory state. */
@Injectable()
export class LearningStatsService {
  constructor(@Inject(APP_CONFIG) private readonly config: AnalyzerConfig) {}

  /**
   * Per pattern: total = supporting sessions, successful = total × successRate (rounded): the
   * success rate is that of the sessions' session_end where they have one, else of the steps.
   */
  patterns(entry: TenantEntry, limit: number): PatternStatsView {
    const rows = [...entry.views.patterns()].sort((a, b) => b.support - a.support || b.score - a.score).slice(0, limit);
    return {
      items: rows.map((p) => {
        const successful = Math.round(p.support * p.successRate);
        return {
          patternId: p.id,
          tools: p.tools,
          total: p.support,
          successful,
          failed: p.support - successful,
          successRate: p.successRate,
          meanDurationMs: p.meanDurationMs,
        };
      }),
    };
  }

  intents(entry: TenantEntry, limit: number): IntentStatsView {
    const byIntent = new Map<string, Array<{ id: string; support: number }>>();
    for (const p of entry.views.patterns()) {
      for (const i of p.intents) {
        const key = normaliseIntent(i.text);
        let list = byIntent.get(key);
        if (!list) byIntent.set(key, (list = []));
        list.push({ id: p.id, support: i.count });
      }
    }
    const rows = entry.state.stats
      .intentTallies()
      .sort((a, b) => b.total - a.total || (a.intent < b.intent ? -1 : 1))
      .slice(0, limit);
    return {
      items: rows.map((r) => ({
        ...r,
        topPatternIds: (byIntent.get(r.intent) ?? [])
          .sort((a, b) => b.support - a.support)
          .slice(0, 3)
          .map((x) => x.id),
      })),
    };
  }

  /** The process map: the directly-follows graph of the sessions the filter selects (maintained, see FlowStats). */
  flow(entry: TenantEntry, q: FlowFilter): FlowStatsView {
    return entry.state.stats.flow.flow(normaliseFilter(q));
  }

  /** Distinct tool sequences, most frequent first; throws InvalidCursorError on a bad cursor. */
  variants(entry: TenantEntry, q: FlowFilter & { limit: number; cursor?: string }): VariantPageView {
    return entry.state.stats.flow.variants({ ...normaliseFilter(q), limit: q.limit, cursor: q.cursor });
  }

  health(entry: TenantEntry, lastRun: AnalyzerRunView | null, nowMs = Date.now()): LearningHealthView {
    const patterns = entry.views.patterns();
    const totals = entry.state.stats.totals();
    const candidates = patterns
      .filter((p) => p.confidence >= this.config.ANALYZER_CONFIDENCE_THRESHOLD && !entry.state.promoted.has(p.id))
      .sort((a, b) => b.score - a.score)
      .slice(0, TOP_CANDIDATES);
    return {
      totals: { ...totals, patterns: patterns.length, promoted: entry.state.promoted.size, openSessions: entry.state.openSessionCount() },
      last24h: entry.state.stats.last24h(nowMs),
      topCandidates: candidates.map((p) => ({ patternId: p.id, tools: p.tools, score: p.score, confidence: p.confidence, support: p.support, successRate: p.successRate })),
      lastRun,
      watermark: entry.state.watermark,
    };
  }
}

function normaliseFilter(q: FlowFilter): FlowFilter {
  return { userId: q.userId, agentId: q.agentId, intent: q.intent !== undefined ? normaliseIntent(q.intent) : undefined, from: q.from, to: q.to };
}
