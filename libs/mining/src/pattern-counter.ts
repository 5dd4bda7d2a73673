import type { MiningOptions } from './mining-options';
import type { ClosedSession, MinedPattern, PatternCounterStats, PatternFilter, PatternOccurrence } from './mining-types';

export interface PatternCounterOptions extends Partial<MiningOptions> {
  /** The one tenant this counter counts; when absent, the tenant of the first session. */
  tenantId?: string;
}

/** Incremental counts of gapped tool sequences for ONE tenant; cost per session is bounded. */
export class PatternCounter {
  constructor(_opts: PatternCounterOptions = {}) {}
  get sessionsSeen(): number {
    return 0;
  }
  get tenantId(): string | undefined {
    return undefined;
  }
  addSession(_s: ClosedSession): void {
    throw new Error('not implemented');
  }
  patterns(_filter: PatternFilter = {}): MinedPattern[] {
    throw new Error('not implemented');
  }
  pattern(_id: string): MinedPattern | undefined {
    throw new Error('not implemented');
  }
  occurrences(_id: string, _opts: { withVariants?: boolean } = {}): PatternOccurrence[] {
    throw new Error('not implemented');
  }
  /** Tools usually called right after `called` (its longest tracked suffix), with their counts. */
  nextToolCounts(_called: string[]): { context: string[]; contextSupport: number; next: { tool: string; support: number }[] } {
    throw new Error('not implemented');
  }
  stats(): PatternCounterStats {
    throw new Error('not implemented');
  }
  toSnapshot(): Buffer {
    throw new Error('not implemented');
  }
  static fromSnapshot(_buf: Buffer): PatternCounter {
    throw new Error('not implemented');
  }
}
