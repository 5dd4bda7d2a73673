import { z } from 'zod';
import { toErrorBody } from './api-exception.filter';
import { ZodValidationPipe } from './zod-validation.pipe';

describe('ZodValidationPipe', () => {
  const id = z.string().regex(/^wf_[a-z0-9]+$/, 'not a workflow id');

  function errorOf(fn: () => unknown): ReturnType<typeof toErrorBody> {
    try {
      fn();
    } catch (err) {
      return toErrorBody(err);
    }
    throw new Error('expected a failure');
  }

  it('returns the parsed value', () => {
    expect(new ZodValidationPipe(id).transform('wf_1', { type: 'param', data: 'id' })).toBe('wf_1');
  });

  it('names a path parameter in the 400 instead of "(root)"', () => {
    const body = errorOf(() => new ZodValidationPipe(id).transform('a b', { type: 'param', data: 'id' }));
    expect(body).toMatchObject({ statusCode: 400, message: 'id: not a workflow id', details: [{ field: 'id', message: 'not a workflow id' }] });
  });

  it('keeps the field paths of a body or query as they are', () => {
    const schema = z.strictObject({ limit: z.number() });
    const body = errorOf(() => new ZodValidationPipe(schema).transform({ limit: 'x' }, { type: 'query' }));
    expect(body.details).toEqual([{ field: 'limit', message: expect.any(String) }]);
  });
});
