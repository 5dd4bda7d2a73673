import { checkRunInput, withVariableDefaults } from './run-input';

describe('withVariableDefaults', () => {
  const variables = {
    type: 'object' as const,
    properties: {
      url: { type: 'string' },
      bucket: { type: 'string', default: 'imports' },
      tags: { type: 'array', default: ['a'] },
    },
    required: ['url'],
  };

  it('fills declared defaults only where the caller gave no value', () => {
    const input = { url: 'http://x', bucket: 'mine' };
    expect(withVariableDefaults(input, variables)).toEqual({ url: 'http://x', bucket: 'mine', tags: ['a'] });
    expect(input).toEqual({ url: 'http://x', bucket: 'mine' });
  });

  it('copies a default so runs never share it', () => {
    const first = withVariableDefaults({}, variables);
    (first.tags as string[]).push('b');
    expect(withVariableDefaults({}, variables).tags).toEqual(['a']);
  });

  it('leaves required keys without a default to the check', () => {
    expect(checkRunInput(withVariableDefaults({}, variables), variables)).toEqual([{ field: 'input.url', message: 'is required by the workflow' }]);
    expect(withVariableDefaults({ a: 1 }, undefined)).toEqual({ a: 1 });
  });
});
