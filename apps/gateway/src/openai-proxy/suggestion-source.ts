import type { Suggestion } from '@toolpath/contracts';

/** What the proxy asks for: the best workflows for an intent, in the caller's tenant. */
export interface SuggestionQuery {
  tenantId: string;
  intent: string;
  userId?: string;
  agentId?: string;
  limit: number;
}

/**
 * Where "Past experience" comes from. The gateway wires the analyzer's suggestions here; the
 * proxy only needs this one call, so it does not depend on the rest of the analyzer client.
 */
export interface SuggestionSource {
  suggest(query: SuggestionQuery, timeoutMs: number): Promise<Suggestion[]>;
}

export const SUGGESTION_SOURCE = Symbol('SuggestionSource');

/** Used until a real source is wired: the proxy then forwards requests unchanged. */
export class NoSuggestions implements SuggestionSource {
  async suggest(): Promise<Suggestion[]> {
    return [];
  }
}

/** Longest "Past experience" message added to a request. */
export const MAX_EXPERIENCE_CHARS = 4000;

/**
 * The system message seed 000 adds: what worked before for requests like this one, as short
 * lines the model can follow or ignore. Undefined when there is nothing worth saying.
 */
export function pastExperienceMessage(suggestions: Suggestion[]): string | undefined {
  const useful = suggestions.filter((s) => Array.isArray(s.tools) && s.tools.length > 0);
  if (useful.length === 0) return undefined;
  const lines = useful.map((s, i) => {
    const rate = s.confidence !== null && s.confidence !== undefined ? `, confidence ${Math.round(s.confidence * 100)}%` : '';
    const why = s.reasons?.length ? ` (${s.reasons.slice(0, 2).join('; ')})` : '';
    const about = s.description ? ` ${s.description}` : '';
    return `${i + 1}. ${s.name}: ${s.tools.join(' -> ')}${rate}${why}.${about}`;
  });
  const text = `Past experience: tool sequences that worked for similar requests in this workspace. Reuse them when they fit.\n${lines.join('\n')}`;
  return text.length > MAX_EXPERIENCE_CHARS ? `${text.slice(0, MAX_EXPERIENCE_CHARS - 1)}…` : text;
}
