import { analyzeTemplate, extractStepReferences, TemplateError } from '../index';

describe('extractStepReferences', () => {
  it('lists the distinct steps a template reads, in order', () => {
    expect(
      extractStepReferences("{{ steps.b.result.x }} / {{ steps['a-1'].result | default(steps.b.status) }} {{ input.q ? steps.c.result : 1 }}"),
    ).toEqual(['b', 'a-1', 'c']);
  });

  it('reads conditions, bare or wrapped', () => {
    expect(extractStepReferences("steps.check.result.ok and steps.prep.status == 'COMPLETED'", 'condition')).toEqual(['check', 'prep']);
    expect(extractStepReferences('{{ not steps.check.result.ok }}', 'condition')).toEqual(['check']);
  });

  it('finds references inside computed keys and filter arguments', () => {
    expect(extractStepReferences('{{ input.map[steps.key.result] | join(steps.sep.result) }}')).toEqual(['key', 'sep']);
  });

  it('returns nothing for plain text and throws TemplateError on bad syntax', () => {
    expect(extractStepReferences('no templates here: steps.a.result')).toEqual([]);
    expect(() => extractStepReferences('{{ steps.a. }}')).toThrow(TemplateError);
  });
});

describe('analyzeTemplate', () => {
  it('reports inputs, names, fields and computed step access', () => {
    const refs = analyzeTemplate('{{ input.repo }}{{ input.repo }}{{ input[input.k] }}{{ steps.a.status }}{{ steps[input.k] }}{{ repo }}');
    expect(refs.inputs).toEqual(['repo', 'k']);
    expect(refs.steps).toEqual([{ stepId: 'a', field: 'status', position: 55 }]);
    expect(refs.dynamicStepAccess).toHaveLength(1);
    expect(refs.dynamicInputAccess).toHaveLength(1);
    expect(refs.names.map((n) => n.name)).toEqual(['input', 'input', 'input', 'input', 'steps', 'input', 'steps', 'repo']);
  });
});
