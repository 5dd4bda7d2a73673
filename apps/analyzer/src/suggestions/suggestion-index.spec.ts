import { SuggestionIndex, type SuggestDoc } from './suggestion-index';

function doc(over: Partial<SuggestDoc> & Pick<SuggestDoc, 'key' | 'tools'>): SuggestDoc {
  return {
    kind: 'pattern',
    source: 'learned',
    name: over.key,
    confidence: 0.8,
    support: 10,
    successRate: 0.9,
    text: '',
    supportByUser: {},
    supportByAgent: {},
    workflow: {},
    ...over,
  };
}

const index = new SuggestionIndex([
  doc({ key: 'p:review', patternId: 'review', tools: ['gh.pr', 'gh.diff', 'slack.post'], text: 'review a pull request', supportByUser: { ann: 4 } }),
  doc({ key: 'p:triage', patternId: 'triage', tools: ['jira.search', 'jira.get', 'jira.comment'], text: 'triage a bug report', confidence: 0.9 }),
  doc({ key: 'w:user', kind: 'catalog', source: 'user', workflowId: 'wf_1', confidence: null, tools: ['jira.search', 'jira.get'], text: 'Bug triage \n handle a bug report' }),
]);

describe('SuggestionIndex', () => {
  it('puts catalog workflows before learned ones, whatever the scores', () => {
    const items = index.query({ intent: 'triage the bug report', tools: [], limit: 5 });
    expect(items.map((s) => s.workflowId ?? s.patternId)).toEqual(['wf_1', 'triage']);
    expect(items[1].reasons.join(' ')).toMatch(/intent matches/);
  });

  it('ignores stop words, so an intent sharing only "a" with a workflow does not match it', () => {
    expect(index.query({ intent: 'a', tools: [], limit: 5 })).toEqual([]);
  });

  it('matches the last calls against the first steps and names the next tool', () => {
    const items = index.query({ tools: ['x', 'jira.search', 'jira.get'], limit: 5 });
    const triage = items.find((s) => s.patternId === 'triage');
    expect(triage).toMatchObject({ matchedSteps: 2, nextTool: 'jira.comment' });
    // A workflow already done in full has nothing to suggest.
    expect(items.find((s) => s.workflowId === 'wf_1')).toBeUndefined();
  });

  it('narrows learned workflows to a user', () => {
    expect(index.query({ intent: 'review pull request', tools: [], userId: 'ann', limit: 5 }).map((s) => s.patternId)).toEqual(['review']);
    expect(index.query({ intent: 'review pull request', tools: [], userId: 'bob', limit: 5 })).toEqual([]);
  });

  it('honours the limit', () => {
    expect(index.query({ tools: ['jira.search'], intent: 'bug', limit: 1 })).toHaveLength(1);
  });
});
