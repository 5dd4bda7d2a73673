import { evaluateCondition, evaluateExpression, renderParameters, renderTemplate, TemplateError, type TemplateContext } from '../index';

const context: TemplateContext = {
  input: { name: 'Ada', n: 3, flag: true, nothing: null, empty: '', tags: ['x', 'y'], Mixed: 'MiXeD', numeric: ' 42 ' },
  steps: {
    fetch: { status: 'COMPLETED', result: { items: [{ name: 'first', size: 2 }, { name: 'second', size: 5 }], total: 2, meta: {} } },
    'fetch-user': { status: 'COMPLETED', result: { email: 'ada@example.com' } },
    broken: { status: 'FAILED', error: 'boom' },
  },
};

/** Runs `fn` and returns the TemplateError it throws (fails the test otherwise). */
function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('expected a TemplateError');
}

describe('renderTemplate: values', () => {
  it('keeps the type of a string that is exactly one expression', () => {
    expect(renderTemplate('{{ input.n }}', context)).toBe(3);
    expect(renderTemplate('{{input.flag}}', context)).toBe(true);
    expect(renderTemplate('{{ input.nothing }}', context)).toBeNull();
    expect(renderTemplate('{{ steps.fetch.result.items }}', context)).toEqual([
      { name: 'first', size: 2 },
      { name: 'second', size: 5 },
    ]);
    expect(renderTemplate('{{ steps.fetch.result }}', context)).toBe((context.steps as Record<string, { result: unknown }>).fetch.result);
  });

  it('interpolates mixed text, JSON-encoding non-strings', () => {
    expect(renderTemplate('Hello {{ input.name }}, n={{input.n}}!', context)).toBe('Hello Ada, n=3!');
    expect(renderTemplate('tags: {{ input.tags }}', context)).toBe('tags: ["x","y"]');
    expect(renderTemplate('{{ input.flag }}/{{ input.nothing }}', context)).toBe('true/null');
    expect(renderTemplate(' {{ input.n }}', context)).toBe(' 3');
  });

  it('passes strings without {{ through, and treats a lone }} as text', () => {
    expect(renderTemplate('plain }} text', context)).toBe('plain }} text');
    expect(renderTemplate("{{ '{{' }} literal", context)).toBe('{{ literal');
    expect(renderTemplate('{{ "}}" }}', context)).toBe('}}');
  });

  it('reads paths with dots, indexes, quoted keys, numeric members and hyphenated step ids', () => {
    expect(renderTemplate('{{ steps.fetch.result.items[1].name }}', context)).toBe('second');
    expect(renderTemplate('{{ steps.fetch.result.items.0.name }}', context)).toBe('first');
    expect(renderTemplate("{{ steps['fetch-user'].result.email }}", context)).toBe('ada@example.com');
    expect(renderTemplate('{{ steps.fetch-user.result.email }}', context)).toBe('ada@example.com');
    expect(renderTemplate('{{ input["name"] }}', context)).toBe('Ada');
    expect(renderTemplate('{{ steps.fetch.result.items[steps.fetch.result.total | number] | default(0) }}', context)).toBe(0);
    expect(renderTemplate('{{ steps.fetch.result.items[input.one].size }}', { ...context, input: { one: 1 } })).toBe(5);
  });
});

describe('renderTemplate: operators', () => {
  it('evaluates the ternary, right-associatively', () => {
    expect(renderTemplate("{{ input.flag ? 'yes' : 'no' }}", context)).toBe('yes');
    expect(renderTemplate("{{ input.n > 5 ? 'big' : input.n > 2 ? 'mid' : 'small' }}", context)).toBe('mid');
  });

  it('compares numbers and strings, and values structurally', () => {
    expect(evaluateExpression('input.n == 3', context)).toBe(true);
    expect(evaluateExpression("input.n == '3'", context)).toBe(false);
    expect(evaluateExpression('input.n != 4', context)).toBe(true);
    expect(evaluateExpression('input.n >= 3 && input.n < 4', context)).toBe(true);
    expect(evaluateExpression("input.name > 'Ab'", context)).toBe(true);
    expect(evaluateExpression("input.tags == steps.x", { input: { tags: ['x', 'y'] }, steps: { x: ['x', 'y'] } })).toBe(true);
    expect(evaluateExpression('steps.fetch.result.meta == steps.fetch.result.meta', context)).toBe(true);
  });

  it('refuses to order values of different kinds', () => {
    const err = templateError(() => evaluateExpression("input.n < 'a'", context));
    expect(err.code).toBe('type_error');
    expect(err.message).toContain('cannot compare number with string');
  });

  it('supports && || ! and the keywords and / or / not, with short-circuit', () => {
    expect(evaluateExpression('input.flag and not input.empty', context)).toBe(true);
    expect(evaluateExpression('!input.flag || input.n == 3', context)).toBe(true);
    expect(evaluateExpression("input.empty || 'fallback'", context)).toBe('fallback');
    expect(evaluateExpression('false && input.missing.deep', context)).toBe(false);
    expect(evaluateExpression('(input.n == 3 or false) and (true)', context)).toBe(true);
    expect(evaluateExpression('-input.n', context)).toBe(-3);
  });

  it('binds filters tighter than comparisons and than not', () => {
    expect(evaluateExpression('steps.fetch.result.total | default(0) > 1', context)).toBe(true);
    expect(evaluateExpression('not input.tags | length', context)).toBe(false);
    expect(evaluateExpression('input.absent | default(0) > 1', context)).toBe(false);
  });
});

describe('filters', () => {
  it('default replaces a missing or null value, not a falsy one', () => {
    expect(renderTemplate("{{ input.missing | default('y') }}", context)).toBe('y');
    expect(renderTemplate("{{ input.nothing | default('y') }}", context)).toBe('y');
    expect(renderTemplate("{{ input.empty | default('y') }}", context)).toBe('');
    expect(renderTemplate('{{ steps.nope.result.a.b | default(null) }}', context)).toBeNull();
    expect(renderTemplate('{{ input.n | default(7) }}', context)).toBe(3);
  });

  it('json, string, length, lower, upper, trim, number', () => {
    expect(renderTemplate('{{ steps.fetch.result.items[0] | json }}', context)).toBe('{"name":"first","size":2}');
    expect(renderTemplate('{{ input.name | json }}', context)).toBe('"Ada"');
    expect(renderTemplate('{{ input.n | string }}', context)).toBe('3');
    expect(renderTemplate('{{ input.tags | string }}', context)).toBe('["x","y"]');
    expect(renderTemplate('{{ input.tags | length }}', context)).toBe(2);
    expect(renderTemplate('{{ input.name | length }}', context)).toBe(3);
    expect(renderTemplate('{{ steps.fetch.result.items[0] | length }}', context)).toBe(2);
    expect(renderTemplate('{{ input.Mixed | lower }}-{{ input.Mixed | upper }}', context)).toBe('mixed-MIXED');
    expect(renderTemplate('{{ input.numeric | trim }}', context)).toBe('42');
    expect(renderTemplate('{{ input.numeric | number }}', context)).toBe(42);
    expect(renderTemplate('{{ input.flag | number }}', context)).toBe(1);
  });

  it('join, first, last, keys', () => {
    expect(renderTemplate("{{ input.tags | join(', ') }}", context)).toBe('x, y');
    expect(renderTemplate('{{ input.tags | join }}', context)).toBe('x,y');
    expect(renderTemplate('{{ input.tags | first }}{{ input.tags | last }}', context)).toBe('xy');
    expect(renderTemplate('{{ steps.fetch.result | keys }}', context)).toEqual(['items', 'total', 'meta']);
    expect(renderTemplate("{{ steps.fetch.result.meta | keys | first | default('none') }}", context)).toBe('none');
  });

  it('fromjson reads a result given as JSON text by path, and passes parsed values through', () => {
    const ctx: TemplateContext = { steps: { text: { result: '{"order": {"id": "o-1"}, "items": [{"sku": "a"}]}' }, tree: { result: { order: { id: 'o-2' } } } } };
    expect(renderTemplate('{{ (steps.text.result | fromjson).order.id }}', ctx)).toBe('o-1');
    expect(renderTemplate('{{ (steps.tree.result | fromjson).order.id }}', ctx)).toBe('o-2');
    expect(renderTemplate('{{ (steps.text.result | fromjson).items[0] }}', ctx)).toEqual({ sku: 'a' });
    const bad = templateError(() => renderTemplate('{{ (steps.text.result | fromjson).order }}', { steps: { text: { result: 'not json' } } }));
    expect(bad.code).toBe('type_error');
    expect(bad.message).toContain('not JSON text');
  });

  it('find selects an element by a field instead of by position', () => {
    const ctx: TemplateContext = {
      input: { sku: 'b', size: 5 },
      steps: {
        fetch: { result: { items: [{ sku: 'a', id: 1 }, 'text', { sku: 'b', id: 2 }], byId: { x: { sku: 'a', id: 3 }, y: { sku: 'b', id: 4 } } } },
      },
    };
    expect(renderTemplate('{{ (steps.fetch.result.items | find(\'sku\', input.sku)).id }}', ctx)).toBe(2);
    expect(renderTemplate("{{ (steps.fetch.result.byId | find('sku', 'a')).id }}", ctx)).toBe(3);
    expect(renderTemplate("{{ steps.fetch.result.items | find('id', 1) | default('none') }}", ctx)).toEqual({ sku: 'a', id: 1 });
    expect(renderTemplate("{{ steps.fetch.result.items | find('sku', 'zzz') | default('none') }}", ctx)).toBe('none');
    expect(templateError(() => renderTemplate("{{ steps.fetch.result.items | find('sku', 'zzz') }}", ctx)).code).toBe('missing_value');
    expect(templateError(() => renderTemplate("{{ input.sku | find('sku', 'a') }}", ctx)).message).toContain('expects an array or object');
    expect(templateError(() => renderTemplate("{{ steps.fetch.result.items | find('__proto__', 'a') }}", ctx)).message).toContain('not allowed');
  });

  it('reports filter misuse clearly', () => {
    expect(templateError(() => renderTemplate('{{ input.name | number }}', context)).code).toBe('type_error');
    expect(templateError(() => renderTemplate('{{ input.n | upper }}', context)).message).toContain('filter "upper" expects a string, got number');
    const unknown = templateError(() => renderTemplate('{{ input.n | shout }}', context));
    expect(unknown.code).toBe('syntax');
    expect(unknown.message).toContain('unknown filter "shout"');
    expect(templateError(() => renderTemplate('{{ input.n | default }}', context)).message).toContain('takes 1 argument, got 0');
  });
});

describe('missing values', () => {
  it('is a TemplateError naming the expression and the missing path, never undefined', () => {
    const err = templateError(() => renderTemplate('Hi {{ input.missing }}', context));
    expect(err.code).toBe('missing_value');
    expect(err.path).toBe('input.missing');
    expect(err.expression).toBe('Hi {{ input.missing }}');
    expect(err.position).toBe(6);
  });

  it('names the first segment that is missing in a deep path', () => {
    const err = templateError(() => renderTemplate('{{ steps.fetch.result.items[5].name }}', context));
    expect(err.path).toBe('steps.fetch.result.items[5]');
    expect(templateError(() => renderTemplate('{{ steps.broken.result.x }}', context)).path).toBe('steps.broken.result');
  });

  it('reads only own enumerable data properties', () => {
    expect(templateError(() => renderTemplate('{{ input.tags.length }}', context)).code).toBe('missing_value');
    expect(templateError(() => renderTemplate('{{ input.name.length }}', context)).code).toBe('missing_value');
    expect(templateError(() => renderTemplate('{{ input.toString }}', context)).code).toBe('missing_value');
    expect(templateError(() => renderTemplate('{{ input.hasOwnProperty }}', context)).code).toBe('missing_value');
    const withGetter = { input: Object.defineProperty({}, 'secret', { get: () => 'leaked', enumerable: true }) };
    expect(templateError(() => renderTemplate('{{ input.secret }}', withGetter)).code).toBe('missing_value');
    const hidden = { input: Object.defineProperty({}, 'hidden', { value: 1, enumerable: false }) };
    expect(templateError(() => renderTemplate('{{ input.hidden }}', hidden)).code).toBe('missing_value');
  });

  it('refuses to read from anything but plain objects and arrays', () => {
    class Secretive {
      token = 's3cr3t';
    }
    expect(templateError(() => renderTemplate('{{ input.token }}', { input: new Secretive() })).code).toBe('type_error');
    expect(templateError(() => renderTemplate('{{ input.inherited }}', { input: Object.create({ inherited: 1 }) })).code).toBe('type_error');
    expect(renderTemplate('{{ input.a }}', { input: Object.assign(Object.create(null), { a: 1 }) })).toBe(1);
  });
});

describe('prototype access is refused', () => {
  it.each([
    ["{{constructor.constructor('return process')()}}", 'constructor'],
    ['{{__proto__}}', '__proto__'],
    ["{{input['__proto__']}}", '__proto__'],
    ['{{ input.__proto__.polluted }}', '__proto__'],
    ['{{ input.constructor }}', 'constructor'],
    ['{{ input.name.constructor.prototype }}', 'constructor'],
    ["{{ steps['prototype'] }}", 'prototype'],
    ["{{ input.x | default(input['constructor']) }}", 'constructor'],
  ])('%s fails at parse time', (template, name) => {
    const err = templateError(() => renderTemplate(template, context));
    expect(err.code).toBe('forbidden_name');
    expect(err.message).toContain(`"${name}" is not allowed`);
  });

  it('refuses a computed key that evaluates to a prototype name', () => {
    const ctx = { input: JSON.parse('{"key": "__proto__", "__proto__": {"polluted": true}}') as unknown };
    const err = templateError(() => renderTemplate('{{ input[input.key] }}', ctx));
    expect(err.code).toBe('forbidden_name');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('has no way to call functions', () => {
    expect(templateError(() => renderTemplate('{{ input.name() }}', context)).message).toContain('function calls are not supported');
    expect(templateError(() => renderTemplate('{{ (input.name)(1) }}', context)).message).toContain('function calls are not supported');
  });
});

describe('syntax errors', () => {
  it.each([
    ['{{ input.a == }}', 'unexpected "}}"', 14],
    ['{{ input.a', '"{{" is not closed by "}}"', 0],
    ['x {{ }}', 'empty expression', 4],
    ['{{ input.a = 1 }}', 'compare with "=="', 11],
    ['{{ input.a & 1 }}', 'use "&&" or "and"', 11],
    ["{{ 'open }}", 'string is not closed', 3],
    ['{{ input. a }}', 'expected a property name right after "."', 8],
    ['{{ (input.a }}', 'expected ")"', 12],
    ['{{ input.a ? 1 }}', 'expected ":"', 15],
    ['{{ 1abc }}', 'a name cannot start with a digit', 3],
    ['{{ input[-1] }}', 'non-negative integer', 9],
    ['{{ a b }}', 'unexpected "b"', 5],
  ])('%s → %s at %d', (template, message, position) => {
    const err = templateError(() => renderTemplate(template, context));
    expect(err.code).toBe('syntax');
    expect(err.message).toContain(message);
    expect(err.position).toBe(position);
  });
});

describe('bounds', () => {
  it('refuses an expression longer than 10,000 characters, quickly, even in a huge string', () => {
    const long = `{{ input.n${' '.repeat(10_001)} }}`;
    expect(templateError(() => renderTemplate(long, context)).code).toBe('too_long');
    const huge = `{{ '${'a'.repeat(5_000_000)}`;
    const started = Date.now();
    expect(templateError(() => renderTemplate(huge, context)).code).toBe('too_long');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('refuses deep nesting without overflowing the stack', () => {
    expect(templateError(() => renderTemplate(`{{ ${'('.repeat(3000)}1${')'.repeat(3000)} }}`, context)).code).toBe('too_deep');
    expect(templateError(() => renderTemplate(`{{ ${'!'.repeat(3000)}true }}`, context)).code).toBe('too_deep');
    expect(templateError(() => renderTemplate(`{{ true${' or true'.repeat(1000)} }}`, context)).code).toBe('too_deep');
    expect(templateError(() => renderTemplate(`{{ input${'.a'.repeat(1000)} }}`, context)).code).toBe('too_deep');
    expect(templateError(() => renderTemplate(`{{ 1 ${'? 1 : 1 '.repeat(1000)} }}`, context)).code).toBe('too_deep');
    expect(renderTemplate(`{{ ${'('.repeat(30)}1${')'.repeat(30)} }}`, context)).toBe(1);
  });
});

describe('evaluateCondition', () => {
  it.each([
    ['false', false],
    ['null', false],
    ['0', false],
    ["''", false],
    ['input.empty_list', false],
    ['input.empty_object', false],
    ['true', true],
    ['1', true],
    ["'no'", true],
    ['input.list', true],
    ['input.object', true],
  ])('truthiness of %s is %s', (expr, expected) => {
    const ctx = { input: { empty_list: [], empty_object: {}, list: [0], object: { a: 0 } } };
    expect(evaluateCondition(expr, ctx)).toBe(expected);
  });

  it('accepts a bare expression or one whole {{ expression }}', () => {
    expect(evaluateCondition('steps.fetch.result.total > 1', context)).toBe(true);
    expect(evaluateCondition('  {{ steps.fetch.result.total > 5 }}  ', context)).toBe(false);
    expect(evaluateCondition("steps.broken.status == 'FAILED'", context)).toBe(true);
  });

  it('refuses text mixed with {{ }}, so data cannot rewrite a condition', () => {
    const err = templateError(() => evaluateCondition('{{ steps.fetch.status }} == COMPLETED', context));
    expect(err.code).toBe('syntax');
    expect(err.message).toContain('a condition is one expression');
  });

  it('treats a missing value as an error unless defaulted', () => {
    expect(templateError(() => evaluateCondition('input.optional', context)).code).toBe('missing_value');
    expect(evaluateCondition('input.optional | default(false)', context)).toBe(false);
  });
});

describe('renderParameters', () => {
  it('renders deeply, keeps non-strings, and does not touch its input', () => {
    const parameters = {
      title: 'Fix {{ steps.fetch.result.items[0].name }}',
      count: '{{ steps.fetch.result.total }}',
      nested: { list: ['{{ input.n }}', 'plain', 7, null, true, ['{{ input.flag }}']] },
      options: { retries: 2 },
    };
    const snapshot = JSON.stringify(parameters);
    expect(renderParameters(parameters, context)).toEqual({
      title: 'Fix first',
      count: 2,
      nested: { list: [3, 'plain', 7, null, true, [true]] },
      options: { retries: 2 },
    });
    expect(JSON.stringify(parameters)).toBe(snapshot);
  });

  it('locates an error at its parameter path', () => {
    const err = templateError(() => renderParameters({ body: { items: ['ok', '{{ input.nope }}'] } }, context));
    expect(err.field).toBe('body.items[1]');
    expect(err.message).toContain('in body.items[1]');
    expect(err.path).toBe('input.nope');
  });

  it('refuses an own __proto__ key (as JSON.parse makes) instead of setting a prototype', () => {
    const parameters = JSON.parse('{"a": 1, "__proto__": {"polluted": true}}') as Record<string, unknown>;
    const err = templateError(() => renderParameters(parameters, context));
    expect(err.code).toBe('forbidden_name');
    expect(err.field).toBe('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses structures deeper than the render limit', () => {
    let deep: Record<string, unknown> = { leaf: '{{ input.n }}' };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(templateError(() => renderParameters(deep, context)).code).toBe('too_deep');
  });
});
