import { addStep, connect, dependencyCandidates, disconnect, errorsByStep, parseEdgeId, edgeId, removeStep, renameStep, uniqueStepId, upstreamOf, type Definition } from './definition';

const d: Definition = {
  name: 'w',
  description: '',
  source: 'user',
  steps: [
    { id: 'a', tool: 't', parameters: {} },
    { id: 'b', tool: 't', parameters: {}, dependsOn: ['a'], onFailure: { fallback: 'c' } },
    { id: 'c', tool: 't', parameters: {} },
    { id: 'd', tool: 't', parameters: {}, dependsOn: ['b'] },
  ],
};

describe('builder definition edits', () => {
  it('makes step ids from tool names that the schema accepts and no step has yet', () => {
    expect(uniqueStepId('mcp:files/read', [])).toBe('files-read');
    expect(uniqueStepId('http.request', ['http-request', 'http-request-2'])).toBe('http-request-3');
    expect(uniqueStepId('???', [])).toBe('step');
    expect(addStep(d, 'x.y').definition.steps.at(-1)).toEqual({ id: 'x-y', tool: 'x.y', parameters: {} });
  });

  it('connects once, never a step to itself, and disconnects down to no dependsOn at all', () => {
    expect(connect(d, 'a', 'a')).toBe(d);
    expect(connect(d, 'a', 'b')).toBe(d);
    expect(connect(d, 'c', 'a').steps[0].dependsOn).toEqual(['c']);
    expect(disconnect(d, 'a', 'b').steps[1]).not.toHaveProperty('dependsOn');
  });

  it('removes a step with the dependencies and fallbacks naming it; renames them too', () => {
    const removed = removeStep(d, 'c');
    expect(removed.steps.map((s) => s.id)).toEqual(['a', 'b', 'd']);
    expect(removed.steps[1]).toEqual({ id: 'b', tool: 't', parameters: {}, dependsOn: ['a'] });
    expect(removeStep(d, 'b').steps.find((s) => s.id === 'd')).not.toHaveProperty('dependsOn');
    const renamed = renameStep(d, 'c', 'cc');
    expect(renamed.steps[1].onFailure).toEqual({ fallback: 'cc' });
    expect(renameStep(d, 'a', 'start').steps[1].dependsOn).toEqual(['start']);
  });

  it('knows what is upstream, and offers as new dependencies only steps that would not close a cycle', () => {
    expect(upstreamOf(d, 'd')).toEqual(['a', 'b']);
    expect(upstreamOf(d, 'a')).toEqual([]);
    expect(dependencyCandidates(d, 'a')).toEqual(['c']);
    expect(dependencyCandidates(d, 'd')).toEqual(['a', 'c']);
  });

  it('pins an error on its stepId, else on the step its field points into, else on the workflow', () => {
    const byStep = errorsByStep(d, [
      { stepId: 'b', field: 'steps[1].dependsOn[0]', message: 'x' },
      { field: 'steps[2].tool', message: 'y' },
      { field: 'name', message: 'z' },
    ]);
    expect(Object.fromEntries(byStep)).toEqual({ b: ['steps[1].dependsOn[0]: x'], c: ['steps[2].tool: y'], '': ['name: z'] });
  });

  it('reads an edge id back', () => {
    expect(parseEdgeId(edgeId('a-1', 'b_2'))).toEqual({ source: 'a-1', target: 'b_2' });
    expect(parseEdgeId('data:a->b:x')).toBeNull();
  });
});
