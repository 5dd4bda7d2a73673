import { stepsRead, workflowGraph } from './workflowGraph';

describe('workflowGraph', () => {
  const definition = {
    steps: [
      { id: 'clone', tool: 'git.clone', parameters: { repo: '{{ input.repo }}' } },
      { id: 'lint', tool: 'npm.lint', dependsOn: ['clone'], parameters: { dir: '{{ steps.clone.result.dir }}' } },
      { id: 'test', tool: 'npm.test', dependsOn: ['clone'], parameters: { dir: '{{ steps.clone.result.dir }}', env: { CI: 'true' } }, onFailure: { fallback: 'retest' } },
      { id: 'retest', tool: 'npm.test', parameters: { why: "{{ steps['test'].error }}" } },
      {
        id: 'deploy',
        tool: 'vm.create',
        dependsOn: ['lint', 'test'],
        parameters: { note: 'lint {{ steps.lint.result.ok }} and test {{ steps.test.result.ok }}', nested: ['{{ steps.clone.result.sha }}'] },
        compensate: { tool: 'vm.delete', parameters: { id: '{{ steps.deploy.result.id }}' } },
      },
    ],
  };

  it('draws dependencies solid, data-flow bindings dashed with the parameter name, fallbacks labelled', () => {
    const { nodes, edges } = workflowGraph(definition, { test: 'failed' });
    expect(nodes.map((n) => [n.id, n.sublabel, n.tone, n.layer])).toEqual([
      ['clone', 'git.clone', 'default', 0],
      ['lint', 'npm.lint', 'default', 1],
      ['test', 'npm.test', 'failed', 1],
      ['retest', 'npm.test', 'default', 2],
      ['deploy', 'vm.create · undo: vm.delete', 'default', 2],
    ]);
    const byId = Object.fromEntries(edges.map((e) => [e.id, e]));
    expect(byId['dep:clone->lint']).toEqual({ id: 'dep:clone->lint', source: 'clone', target: 'lint' });
    expect(byId['data:clone->lint:dir']).toEqual({ id: 'data:clone->lint:dir', source: 'clone', target: 'lint', label: 'dir', dashed: true });
    expect(byId['data:clone->deploy:nested']).toMatchObject({ label: 'nested', dashed: true });
    expect(byId['data:lint->deploy:note']).toBeDefined();
    expect(byId['data:test->deploy:note']).toBeDefined();
    expect(byId['fallback:test->retest']).toEqual({ id: 'fallback:test->retest', source: 'test', target: 'retest', label: 'fallback' });
    expect(byId['data:test->retest:why']).toMatchObject({ dashed: true });
    // The compensation reading its own step's result is no edge; input.* is none either.
    expect(edges.filter((e) => e.source === e.target)).toEqual([]);
    expect(edges).toHaveLength(11);
  });

  it('ignores unknown steps and survives a cycle', () => {
    const { nodes, edges } = workflowGraph({ steps: [{ id: 'a', tool: 't', dependsOn: ['b', 'ghost'] }, { id: 'b', tool: 't', dependsOn: ['a'], parameters: { x: '{{ steps.ghost.result }}' } }] });
    expect(nodes).toHaveLength(2);
    expect(edges.map((e) => e.id).sort()).toEqual(['dep:a->b', 'dep:b->a']);
  });

  it('finds step reads only inside templates', () => {
    expect([...stepsRead({ a: 'steps.x.result', b: ['{{ steps.y.result | default(steps.z.result) }}'] })]).toEqual(['y', 'z']);
  });
});
