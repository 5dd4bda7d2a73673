import type { Suggestion } from '@toolpath/contracts';
import type { AnalyzerClient } from '../learning/analyzer.client';
import type { SuggestionQuery, SuggestionSource } from './suggestion-source';

/**
 * Suggestions from the analyzer, through the gateway's AnalyzerClient. The proxy bounds the wait
 * with its own budget (OPENAI_PROXY_SUGGESTIONS_TIMEOUT_MS) and treats any failure (no analyzer,
 * an error, a timeout) as "no suggestions", forwarding the request unchanged.
 */
export class AnalyzerSuggestionSource implements SuggestionSource {
  constructor(private readonly analyzer: AnalyzerClient) {}

  async suggest(query: SuggestionQuery): Promise<Suggestion[]> {
    const view = await this.analyzer.suggest(query.tenantId, {
      intent: query.intent.slice(0, 10_000),
      limit: query.limit,
      ...(query.userId ? { userId: query.userId } : {}),
      ...(query.agentId ? { agentId: query.agentId } : {}),
    });
    return Array.isArray(view?.items) ? view.items : [];
  }
}
