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

  it('suggests the whole procedure the intent asks for over the read-only prefix, and not by names or order ids', () => {
    const READ = ['find_user', 'get_user', 'get_order'];
    const said = (verb: string, who: string[]) => who.map((name, i) => ({ text: `You are ${name} in 1912${i}. ${verb} order #W23781${i}.`, count: 1 }));
    const people = ['Yusuf Rossi', 'Mei Davis', 'Ann Lee', 'Bo Chen'];
    const docs = [
      // Every kind of request reads first: the prefix has the most support and confidence, and its
      // intents name everybody.
      doc({ key: 'p:prefix', patternId: 'prefix', tools: READ, support: 12, confidence: 0.9, intents: [...said('Cancel', people), ...said('Return', people), ...said('Exchange', people)] }),
      doc({ key: 'p:cancel', patternId: 'cancel', tools: [...READ, 'cancel_order'], support: 4, confidence: 0.6, intents: said('Cancel', people) }),
      doc({ key: 'p:return', patternId: 'return', tools: [...READ, 'return_items'], support: 4, confidence: 0.6, intents: said('Return', people) }),
    ].map((d) => ({ ...d, text: (d.intents ?? []).map((i) => i.text).join(' \n ') }));
    const learned = new SuggestionIndex(docs);
    expect(learned.query({ intent: 'You are Yusuf Rossi in 19120. Return order #W237810.', tools: [], limit: 3 })[0].patternId).toBe('return');
    expect(learned.query({ intent: 'Mei Davis here: please cancel #W237811', tools: [], limit: 3 })[0].patternId).toBe('cancel');
  });

  it('ranks learned workflows by what sessions of similar intents did, when they are known', () => {
    const docs = [
      doc({ key: 'p:short', patternId: 'short', tools: ['a', 'b', 'c'], text: 'sync the ledger', support: 20, confidence: 0.95 }),
      doc({ key: 'p:long', patternId: 'long', tools: ['a', 'b', 'c', 'd', 'e'], text: 'sync the ledger', support: 8, confidence: 0.7 }),
    ];
    const similarSessions = () => [
      { tools: ['a', 'b', 'c', 'd', 'e'], weight: 1 },
      { tools: ['a', 'b', 'x', 'c', 'd', 'e'], weight: 0.9 },
    ];
    const items = new SuggestionIndex(docs, { similarSessions }).query({ intent: 'sync the ledger', tools: [], limit: 2 });
    expect(items.map((s) => s.patternId)).toEqual(['long', 'short']);
    expect(items[0].reasons.join(' ')).toMatch(/similar intent/);
  });

  it('offers the whole procedure of the most similar past sessions when no learned pattern covers it', () => {
    // A small tenant: only the shared read-only prefix recurred often enough to be a pattern.
    const docs = [doc({ key: 'p:prefix', patternId: 'prefix', tools: ['get_user', 'get_reservation'], text: 'change my flight', support: 9, confidence: 0.9 })];
    const similarSessions = () => [
      { tools: ['get_user', 'get_reservation', 'search_flights', 'update_flights'], weight: 1 },
      { tools: ['get_user', 'get_reservation', 'search_flights', 'update_flights'], weight: 0.8 },
      { tools: ['get_user', 'get_reservation', 'search_flights', 'search_flights_onestop', 'update_flights'], weight: 0.6 },
    ];
    const index = new SuggestionIndex(docs, { similarSessions });
    const [top, second] = index.query({ intent: 'change my flight to the 24th', tools: [], limit: 2 });
    expect(top.tools).toEqual(['get_user', 'get_reservation', 'search_flights', 'update_flights']);
    expect(top.patternId).toBeUndefined();
    expect(top.procedure).toEqual({ followedBy: 2, neighbours: 3, expectedOverlap: 0.95 });
    expect(top.reasons.join(' ')).toMatch(/whole procedure 2 of the 3 past sessions/);
    // A draft: the calls in order, each after the one before, parameters left to fill in.
    const steps = (top.workflow as { steps: Array<{ tool: string; dependsOn?: string[]; parameters: object }> }).steps;
    expect(steps.map((x) => x.tool)).toEqual(top.tools);
    expect(steps[3].dependsOn).toEqual([(top.workflow as { steps: Array<{ id: string }> }).steps[2].id]);
    expect(steps.every((x) => Object.keys(x.parameters).length === 0)).toBe(true);
    expect(second.patternId).toBe('prefix');
  });

  it('leaves the procedure out when the query is narrowed to a user or agent (its sessions are not attributed)', () => {
    const similarSessions = () => [{ tools: ['a', 'b', 'c'], weight: 1 }];
    const index = new SuggestionIndex([doc({ key: 'p:ab', patternId: 'ab', tools: ['a', 'b'], text: 'do it', supportByUser: { ann: 3 } })], { similarSessions });
    expect(index.query({ intent: 'do it', tools: [], limit: 3 }).map((s) => s.procedure !== undefined)).toEqual([true, false]);
    expect(index.query({ intent: 'do it', tools: [], userId: 'ann', limit: 3 }).map((s) => s.patternId)).toEqual(['ab']);
  });
});
