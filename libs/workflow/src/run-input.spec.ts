import { applyInputDefaults, declaredJsonTypes, matchesDeclaredType, type WorkflowVariables } from './index';

const withVariables = (variables: WorkflowVariables | undefined) => ({ variables });

describe('applyInputDefaults', () => {
  const variables: WorkflowVariables = {
    type: 'object',
    properties: {
      url: { type: 'string' },
      bucket: { type: 'string', default: 'imports' },
      tags: { type: 'array', default: ['a'] },
      limit: { type: 'integer', default: 10 },
    },
    required: ['url'],
  };

  it('fills declared defaults only where the caller gave no value', () => {
    const input = { url: 'http://x', bucket: 'mine' };
    expect(applyInputDefaults(withVariables(variables), input)).toEqual({ url: 'http://x', bucket: 'mine', tags: ['a'], limit: 10 });
    expect(input).toEqual({ url: 'http://x', bucket: 'mine' });
  });

  it('never replaces a given value, even null, 0, false or an empty string; undefined counts as absent', () => {
    const out = applyInputDefaults(withVariables(variables), { bucket: '', tags: null, limit: 0, extra: false, url: undefined });
    expect(out).toEqual({ bucket: '', tags: null, limit: 0, extra: false, url: undefined });
    expect(applyInputDefaults(withVariables(variables), { bucket: undefined }).bucket).toBe('imports');
  });

  it('copies a default so runs never share it, and leaves the definition as it was', () => {
    const first = applyInputDefaults(withVariables(variables), {});
    (first.tags as string[]).push('b');
    expect(applyInputDefaults(withVariables(variables), {}).tags).toEqual(['a']);
    expect(variables.properties!.tags.default).toEqual(['a']);
  });

  it('fills defaults inside nested objects the schema declares, given or absent', () => {
    const nested: WorkflowVariables = {
      type: 'object',
      properties: {
        options: {
          type: 'object',
          properties: { retries: { type: 'integer', default: 3 }, mode: { type: 'string' }, deep: { type: 'object', properties: { on: { default: true } } } },
        },
        target: { type: 'object', properties: { host: { type: 'string' } } },
        preset: { type: 'object', default: { a: 1 }, properties: { b: { default: 2 } } },
      },
    };
    expect(applyInputDefaults(withVariables(nested), {})).toEqual({ options: { retries: 3, deep: { on: true } }, preset: { a: 1, b: 2 } });
    const given = { options: { mode: 'fast', retries: 1 }, preset: { a: 5 } };
    expect(applyInputDefaults(withVariables(nested), given)).toEqual({ options: { mode: 'fast', retries: 1, deep: { on: true } }, preset: { a: 5, b: 2 } });
    // The caller's nested objects are copied, not filled in place.
    expect(given).toEqual({ options: { mode: 'fast', retries: 1 }, preset: { a: 5 } });
    // A given value of another shape is kept as it is (the input check reports it).
    expect(applyInputDefaults(withVariables(nested), { options: 'text' })).toEqual({ options: 'text', preset: { a: 1, b: 2 } });
  });

  it('fills a property named like an Object.prototype member, and never writes a prototype key', () => {
    const props = JSON.parse('{"toString":{"default":"t"},"__proto__":{"default":{"polluted":true}},"constructor":{"default":1}}') as Record<string, Record<string, unknown>>;
    const out = applyInputDefaults(withVariables({ type: 'object', properties: props }), {});
    expect(Object.keys(out)).toEqual(['toString']);
    expect(out.toString).toBe('t');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps an own "__proto__" key of the input as data, without changing the prototype', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const out = applyInputDefaults(withVariables(variables), input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('returns a copy of the input when the workflow declares no variables or no properties', () => {
    const input = { a: 1 };
    const out = applyInputDefaults(withVariables(undefined), input);
    expect(out).toEqual({ a: 1 });
    expect(out).not.toBe(input);
    expect(applyInputDefaults(withVariables({ type: 'object' }), input)).toEqual({ a: 1 });
  });
});

describe('matchesDeclaredType', () => {
  it('checks the JSON Schema types it knows and passes the rest', () => {
    expect(matchesDeclaredType('x', 'string')).toBe(true);
    expect(matchesDeclaredType(1.5, 'integer')).toBe(false);
    expect(matchesDeclaredType(2, 'integer')).toBe(true);
    expect(matchesDeclaredType(Number.NaN, 'number')).toBe(false);
    expect(matchesDeclaredType([], 'object')).toBe(false);
    expect(matchesDeclaredType(null, ['string', 'null'])).toBe(true);
    expect(matchesDeclaredType(1, ['string', 'null'])).toBe(false);
    expect(matchesDeclaredType(1, undefined)).toBe(true);
    expect(matchesDeclaredType(1, 'date')).toBe(true);
    expect(declaredJsonTypes(['string', 'date', 3])).toEqual(['string']);
  });
});
