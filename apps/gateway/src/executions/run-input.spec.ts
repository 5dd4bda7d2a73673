import { applyInputDefaults } from '@toolpath/workflow';
import { checkRunInput } from './run-input';

describe('checkRunInput', () => {
  const variables = {
    type: 'object' as const,
    properties: {
      url: { type: 'string' },
      bucket: { type: 'string', default: 'imports' },
      mode: { type: 'string', enum: ['fast', 'safe'] },
      count: { type: ['integer', 'null'] },
    },
    required: ['url', 'bucket'],
  };

  it('reports a required key without a value, and not one its default fills', () => {
    expect(checkRunInput(applyInputDefaults({ variables }, {}), variables)).toEqual([{ field: 'input.url', message: 'is required by the workflow' }]);
    expect(checkRunInput(applyInputDefaults({ variables }, { url: 'http://x' }), variables)).toEqual([]);
    expect(checkRunInput({ a: 1 }, undefined)).toEqual([]);
  });

  it('names the field of a wrong type or a value outside the enum', () => {
    expect(checkRunInput({ url: 1, bucket: 'b', mode: 'slow', count: 1.5 }, variables)).toEqual([
      { field: 'input.url', message: 'must be string' },
      { field: 'input.mode', message: 'must be one of "fast", "safe"' },
      { field: 'input.count', message: 'must be integer or null' },
    ]);
    expect(checkRunInput({ url: 'u', bucket: 'b', count: null }, variables)).toEqual([]);
  });
});
