import { Inject, Injectable } from '@nestjs/common';
import { JSONCodec } from 'nats';
import { analyzerSubjects, type Suggestion, type SuggestRequest } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import type { GatewayConfig } from '../gateway.config';
import type { SuggestionQuery, SuggestionSource } from './suggestion-source';

const codec = JSONCodec<unknown>();

/**
 * Suggestions from the analyzer, asked over NATS request/reply (`analyzerSubjects(prefix).suggest`).
 * The reply is the services' envelope `{ ok: true, value: { items } }`; anything else (no
 * analyzer, an error, a timeout) counts as "no suggestions" for the proxy, which then forwards
 * the request unchanged.
 */
@Injectable()
export class AnalyzerSuggestionSource implements SuggestionSource {
  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly nats: NatsClient,
  ) {}

  async suggest(query: SuggestionQuery, timeoutMs: number): Promise<Suggestion[]> {
    const request: SuggestRequest = {
      tenantId: query.tenantId,
      intent: query.intent.slice(0, 10_000),
      tools: [],
      limit: query.limit,
      ...(query.userId ? { userId: query.userId } : {}),
      ...(query.agentId ? { agentId: query.agentId } : {}),
    };
    const msg = await this.nats.nc.request(analyzerSubjects(this.config.TOOLPATH_SUBJECT_PREFIX).suggest, codec.encode(request), { timeout: timeoutMs });
    const reply = codec.decode(msg.data) as { ok?: boolean; value?: { items?: unknown }; error?: { message?: string } };
    if (reply?.ok !== true) throw new Error(`the analyzer refused: ${reply?.error?.message ?? 'no reason given'}`);
    const items = reply.value?.items;
    return Array.isArray(items) ? (items.filter(isSuggestion) as Suggestion[]) : [];
  }
}

function isSuggestion(v: unknown): boolean {
  const s = v as Partial<Suggestion>;
  return typeof s === 'object' && s !== null && typeof s.name === 'string' && Array.isArray(s.tools) && Array.isArray(s.reasons ?? []);
}
