import { rankPatternsByIntent, type RankablePattern } from './intent-ranking';

const READ = ['find_user', 'get_user', 'get_order'];
const intents = (verb: string, n: number) => Array.from({ length: n }, (_, i) => ({ text: `You are Ann Lee in 1000${i}. ${verb} order #W${i}${verb.length}`, count: 1 }));

// The read-only prefix is behind every kind of request (higher support and confidence); each
// whole procedure only behind its own kind.
const prefix: RankablePattern = { key: 'prefix', tools: READ, intents: [...intents('Cancel', 5), ...intents('Return', 5), ...intents('Exchange', 5)], support: 15, confidence: 0.9 };
const cancel: RankablePattern = { key: 'cancel', tools: [...READ, 'cancel_order'], intents: intents('Cancel', 5), support: 5, confidence: 0.6 };
const ret: RankablePattern = { key: 'return', tools: [...READ, 'get_product', 'return_items'], intents: intents('Return', 5), support: 5, confidence: 0.6 };
const patterns = [prefix, cancel, ret];

describe('rankPatternsByIntent', () => {
  it('prefers the whole procedure the intent asks for over the read-only prefix every request shares', () => {
    expect(rankPatternsByIntent(patterns, 'I am Bo Chen; return order #W999 please')[0].pattern.key).toBe('return');
    expect(rankPatternsByIntent(patterns, 'cancel my order #W123')[0].pattern.key).toBe('cancel');
  });

  it('with sessions of similar intents, ranks by the expected overlap with what they called', () => {
    const similarSessions = [
      { tools: [...READ, 'get_product', 'return_items'], weight: 1 },
      { tools: [...READ, 'get_product', 'get_product', 'return_items'], weight: 0.8 },
    ];
    const ranked = rankPatternsByIntent(patterns, 'something about a lamp', { similarSessions });
    expect(ranked[0].pattern.key).toBe('return');
    expect(ranked[0].expectedOverlap).toBeCloseTo(1);
  });

  it('does not rank by names, ids or zip codes', () => {
    // Only the names and ids match the prefix's intents: nothing is relevant.
    expect(rankPatternsByIntent(patterns, 'Ann Lee 10001 #W13')).toEqual([]);
  });
});
