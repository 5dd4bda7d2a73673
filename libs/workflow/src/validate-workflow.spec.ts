import {
  MAX_PARAMETERS_DEPTH,
  MAX_REPORTED_ERRORS,
  validateWorkflow,
  workflowDefinitionJsonSchema,
  type WorkflowErrorCode,
  type WorkflowValidationError,
} from './index';

type RawStep = Record<string, unknown>;

function definition(steps: RawStep[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'wf', description: 'test workflow', source: 'user', steps, ...extra };
}

function errorsOf(input: unknown, options?: Parameters<typeof validateWorkflow>[1]): WorkflowValidationError[] {
  const result = validateWorkflow(input, options);
  if (result.ok) throw new Error('expected validation to fail');
  return result.errors;
}

function only(input: unknown, code: WorkflowErrorCode, options?: Parameters<typeof validateWorkflow>[1]): WorkflowValidationError {
  const errors = errorsOf(input, options);
  const matching = errors.filter((e) => e.code === code);
  if (matching.length !== 1) throw new Error(`expected one ${code}, got ${JSON.stringify(errors, null, 2)}`);
  return matching[0];
}

describe('validateWorkflow: schema', () => {
  it('accepts a valid definition and fills defaults', () => {
    const result = validateWorkflow(
      definition([
        { id: 'list', tool: 'github.list_issues', parameters: { repo: '{{ input.repo }}' } },
        { id: 'pr', tool: 'github.create_pr', dependsOn: ['list'], parameters: { body: 'Fixes #{{ steps.list.result.issues[0].number }}' } },
        { id: 'notify', tool: 'slack.send', dependsOn: ['pr'], condition: "steps.pr.status == 'COMPLETED'" },
      ]),
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.workflow.steps[2].parameters).toEqual({});
  });

  it('refuses what is not an object', () => {
    expect(only([], 'invalid_definition').field).toBe('(root)');
    expect(only('{}', 'invalid_definition').message).toContain('JSON object');
  });

  it('names the step of a schema error, and refuses unknown keys such as depends_on', () => {
    const errors = errorsOf(
      definition([
        { id: 'ok', tool: 't' },
        { id: 'bad id!', tool: 't' },
        { id: 'typo', tool: 't', depends_on: ['ok'] },
        { id: 'notool' },
        { id: 'retry', tool: 't', retry: { maxAttempts: 50, backoff: { type: 'linear', delayMs: 10 } } },
      ]),
    );
    const byStep = (stepId: string) => errors.filter((e) => e.stepId === stepId);
    expect(byStep('bad id!')[0]).toMatchObject({ code: 'invalid_schema', field: 'steps[1].id' });
    expect(byStep('typo')[0].message).toContain('depends_on');
    expect(byStep('notool')[0].field).toBe('steps[3].tool');
    expect(byStep('retry').map((e) => e.field).sort()).toEqual(['steps[4].retry.backoff.type', 'steps[4].retry.maxAttempts']);
    expect(errors.every((e) => e.message.startsWith(`step "${e.stepId}"`))).toBe(true);
  });

  it('checks maxDelayMs against delayMs and the onFailure shapes', () => {
    const errors = errorsOf(
      definition([
        { id: 'a', tool: 't', retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 50 } } },
        { id: 'b', tool: 't', onFailure: 'ignore' },
      ]),
    );
    expect(errors.map((e) => e.field)).toEqual(['steps[0].retry.backoff.maxDelayMs', 'steps[1].onFailure']);
  });
});

describe('validateWorkflow: graph', () => {
  it('reports duplicate ids', () => {
    const e = only(definition([{ id: 'a', tool: 't' }, { id: 'a', tool: 't' }]), 'duplicate_step_id');
    expect(e).toMatchObject({ stepId: 'a', field: 'steps[1].id' });
  });

  it('reports unknown dependencies and self-dependencies', () => {
    const errors = errorsOf(definition([{ id: 'a', tool: 't', dependsOn: ['ghost', 'a'] }]));
    expect(errors.map((e) => [e.code, e.field, e.stepId])).toEqual([
      ['unknown_dependency', 'steps[0].dependsOn[0]', 'a'],
      ['self_dependency', 'steps[0].dependsOn[1]', 'a'],
    ]);
    expect(errors[0].message).toContain('"ghost"');
  });

  it('reports a cycle with its path', () => {
    const e = only(
      definition([
        { id: 'a', tool: 't', dependsOn: ['b'] },
        { id: 'b', tool: 't', dependsOn: ['c'] },
        { id: 'c', tool: 't', dependsOn: ['a'] },
        { id: 'd', tool: 't', dependsOn: ['a'] },
      ]),
      'dependency_cycle',
    );
    expect(e.stepId).toBe('a');
    expect(e.message).toContain('a → b → c → a');
    expect(e.cycle).toEqual(['a', 'b', 'c', 'a']);
    expect(e.field).toBe('steps[0].dependsOn');
  });

  it('reports each independent cycle once, starting at its earliest step', () => {
    const errors = errorsOf(
      definition([
        { id: 'x', tool: 't', dependsOn: ['y'] },
        { id: 'y', tool: 't', dependsOn: ['x'] },
        { id: 'p', tool: 't', dependsOn: ['q'] },
        { id: 'q', tool: 't', dependsOn: ['p'] },
      ]),
    );
    expect(errors.map((e) => e.cycle)).toEqual([
      ['x', 'y', 'x'],
      ['p', 'q', 'p'],
    ]);
  });
});

describe('validateWorkflow: fallbacks', () => {
  it('reports an unknown fallback and a step that is its own fallback', () => {
    expect(only(definition([{ id: 'a', tool: 't', onFailure: { fallback: 'nope' } }]), 'unknown_fallback')).toMatchObject({
      stepId: 'a',
      field: 'steps[0].onFailure.fallback',
    });
    expect(only(definition([{ id: 'a', tool: 't', onFailure: { fallback: 'a' } }]), 'self_fallback').stepId).toBe('a');
  });

  it('refuses a fallback that already ran before the step, or that waits for it', () => {
    expect(
      only(
        definition([
          { id: 'prep', tool: 't' },
          { id: 'a', tool: 't', dependsOn: ['prep'], onFailure: { fallback: 'prep' } },
        ]),
        'fallback_is_ancestor',
      ).stepId,
    ).toBe('a');
    expect(
      only(
        definition([
          { id: 'a', tool: 't', onFailure: { fallback: 'fb' } },
          { id: 'fb', tool: 't', dependsOn: ['a'] },
        ]),
        'fallback_depends_on_step',
      ).message,
    ).toContain('could never run');
  });

  it('refuses one fallback shared by two steps', () => {
    const e = only(
      definition([
        { id: 'a', tool: 't', onFailure: { fallback: 'fb' } },
        { id: 'b', tool: 't', onFailure: { fallback: 'fb' } },
        { id: 'fb', tool: 't' },
      ]),
      'shared_fallback',
    );
    expect(e).toMatchObject({ stepId: 'b', field: 'steps[1].onFailure.fallback' });
  });

  it('reports fallbacks that wait for each other as a cycle', () => {
    const e = only(
      definition([
        { id: 'a', tool: 't', onFailure: { fallback: 'b' } },
        { id: 'b', tool: 't', onFailure: { fallback: 'a' } },
      ]),
      'dependency_cycle',
    );
    expect(e.message).toContain('a -fallback of→ b -fallback of→ a');
  });

  it('lets a fallback read the state of the step it replaces', () => {
    const result = validateWorkflow(
      definition([
        { id: 'a', tool: 't', onFailure: { fallback: 'fb' } },
        { id: 'fb', tool: 't', parameters: { why: '{{ steps.a.error }}' } },
        { id: 'after', tool: 't', dependsOn: ['a'] },
      ]),
    );
    expect(result.ok).toBe(true);
  });
});

describe('validateWorkflow: templates', () => {
  it('accepts references to transitive ancestors', () => {
    const result = validateWorkflow(
      definition([
        { id: 'a', tool: 't' },
        { id: 'b', tool: 't', dependsOn: ['a'] },
        { id: 'c', tool: 't', dependsOn: ['b'], parameters: { v: '{{ steps.a.result.x }}' }, condition: 'steps.a.result.ok | default(true)' },
      ]),
    );
    expect(result.ok).toBe(true);
  });

  it('refuses a reference to a step that is not an ancestor, naming the step and field', () => {
    const e = only(
      definition([
        { id: 'a', tool: 't' },
        { id: 'b', tool: 't', parameters: { deep: { list: ['x', 'from {{ steps.a.result.v }}'] } } },
      ]),
      'non_ancestor_reference',
    );
    expect(e).toMatchObject({ stepId: 'b', field: 'steps[1].parameters.deep.list[1]', position: 8 });
    expect(e.message).toContain('add "a" to dependsOn');
  });

  it('refuses a condition that reads a later step', () => {
    const e = only(
      definition([
        { id: 'a', tool: 't', condition: "steps.b.status == 'COMPLETED'" },
        { id: 'b', tool: 't', dependsOn: ['a'] },
      ]),
      'non_ancestor_reference',
    );
    expect(e.field).toBe('steps[0].condition');
  });

  it('reports unknown steps, self references, unknown names, computed step keys and unknown step fields', () => {
    const errors = errorsOf(
      definition([
        { id: 'a', tool: 't' },
        {
          id: 'b',
          tool: 't',
          dependsOn: ['a'],
          parameters: {
            unknown: '{{ steps.ghost.result }}',
            self: '{{ steps.b.result }}',
            name: '{{ repo }}',
            dynamic: '{{ steps[input.which].result }}',
            whole: '{{ steps | json }}',
            field: '{{ steps.a.url }}',
          },
        },
      ]),
    );
    expect(errors.map((e) => [e.code, e.field])).toEqual([
      ['unknown_step_reference', 'steps[1].parameters.unknown'],
      ['self_reference', 'steps[1].parameters.self'],
      ['unknown_template_name', 'steps[1].parameters.name'],
      ['dynamic_step_reference', 'steps[1].parameters.dynamic'],
      ['dynamic_step_reference', 'steps[1].parameters.whole'],
      ['unknown_step_field', 'steps[1].parameters.field'],
    ]);
    expect(errors.every((e) => e.stepId === 'b')).toBe(true);
  });

  it('lets a compensation read its own step', () => {
    const result = validateWorkflow(
      definition([{ id: 'create', tool: 'vm.create', compensate: { tool: 'vm.delete', parameters: { id: '{{ steps.create.result.id }}' } } }]),
    );
    expect(result.ok).toBe(true);
  });

  it('reports bad template and condition syntax with the position', () => {
    const errors = errorsOf(
      definition([{ id: 'a', tool: 't', parameters: { x: 'a {{ input.b == }}' }, condition: 'input.x ==' }]),
    );
    expect(errors).toEqual([
      expect.objectContaining({ code: 'template_syntax', stepId: 'a', field: 'steps[0].parameters.x', position: 16 }),
      expect.objectContaining({ code: 'template_syntax', stepId: 'a', field: 'steps[0].condition', position: 10 }),
    ]);
    expect(errors[0].message).toContain('at position 16');
  });

  it('reports prototype names in templates', () => {
    const e = only(definition([{ id: 'a', tool: 't', parameters: { x: "{{constructor.constructor('return process')()}}" } }]), 'template_forbidden_name');
    expect(e.stepId).toBe('a');
  });
});

describe('validateWorkflow: tools', () => {
  it('reports unknown tools when a registry is given', () => {
    const known = new Set(['t']);
    const errors = errorsOf(
      definition([{ id: 'a', tool: 'mystery', compensate: { tool: 'undo.mystery' } }, { id: 'b', tool: 't' }]),
      { knownTools: (name) => known.has(name) },
    );
    expect(errors.map((e) => [e.code, e.stepId, e.field])).toEqual([
      ['unknown_tool', 'a', 'steps[0].tool'],
      ['unknown_tool', 'a', 'steps[0].compensate.tool'],
    ]);
    expect(validateWorkflow(definition([{ id: 'a', tool: 'mystery' }])).ok).toBe(true);
  });
});

describe('validateWorkflow: prototype keys', () => {
  it('refuses an own __proto__ key from JSON.parse, naming the step and the path', () => {
    const input: unknown = JSON.parse(
      '{"name":"wf","description":"","source":"user","steps":[{"id":"a","tool":"t","parameters":{"x":{"__proto__":{"polluted":true}}}}]}',
    );
    const e = only(input, 'forbidden_key');
    expect(e).toMatchObject({ stepId: 'a', field: 'steps[0].parameters.x.__proto__' });
    expect(e.message).toContain('"__proto__" is not allowed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses constructor and prototype keys anywhere in the definition', () => {
    const input: unknown = JSON.parse(
      '{"name":"wf","description":"","source":"user","constructor":1,"steps":[{"id":"a","tool":"t","parameters":{"list":[{"prototype":{}}]}}]}',
    );
    const errors = errorsOf(input).filter((e) => e.code === 'forbidden_key');
    expect(errors.map((e) => e.field).sort()).toEqual(['constructor', 'steps[0].parameters.list[0].prototype']);
  });
});

describe('validateWorkflow: hostile input', () => {
  it('refuses 10,000 steps by the limit, fast', () => {
    const steps = Array.from({ length: 10_000 }, (_, i) => ({ id: `s${i}`, tool: 't', dependsOn: i > 0 ? [`s${i - 1}`] : [] }));
    const started = performance.now();
    const errors = errorsOf(definition(steps));
    expect(performance.now() - started).toBeLessThan(50);
    expect(errors).toEqual([expect.objectContaining({ code: 'too_many_steps', field: 'steps' })]);
  });

  it('validates 500 chained steps with templates quickly', () => {
    const steps = Array.from({ length: 500 }, (_, i) => ({
      id: `s${i}`,
      tool: 't',
      dependsOn: i > 0 ? [`s${i - 1}`] : [],
      parameters: i > 0 ? { from: `{{ steps.s0.result.v }} and {{ steps.s${i - 1}.result.v }}` } : {},
    }));
    const started = performance.now();
    expect(validateWorkflow(definition(steps)).ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses deep nesting without overflowing the stack', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const started = performance.now();
    const e = only(definition([{ id: 'a', tool: 't', parameters: { deep } }]), 'too_deep');
    expect(performance.now() - started).toBeLessThan(500);
    expect(e.stepId).toBe('a');
    expect(e.field.startsWith('steps[0].parameters.deep.d.d')).toBe(true);

    let arrays: unknown = [];
    // Arrays and objects in turn: an array directly in an array is refused as unstorable.
    for (let i = 0; i < 100_000; i++) arrays = i % 2 === 0 ? [arrays] : { a: arrays };
    expect(only(definition([{ id: 'a', tool: 't', parameters: { arrays } }]), 'too_deep').stepId).toBe('a');
  });

  it(`allows exactly ${MAX_PARAMETERS_DEPTH} levels of parameters`, () => {
    const nest = (levels: number) => {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = { d: v };
      return v as Record<string, unknown>;
    };
    expect(validateWorkflow(definition([{ id: 'a', tool: 't', parameters: nest(MAX_PARAMETERS_DEPTH) }])).ok).toBe(true);
    expect(only(definition([{ id: 'a', tool: 't', parameters: nest(MAX_PARAMETERS_DEPTH + 1) }]), 'too_deep').stepId).toBe('a');
  });

  it('refuses huge strings and definitions over 256 KB, fast', () => {
    const started = performance.now();
    expect(only(definition([{ id: 'a', tool: 't' }], { description: 'x'.repeat(50_000_000) }), 'too_large').field).toBe('(root)');
    const many = Array.from({ length: 400 }, (_, i) => ({ id: `s${i}`, tool: 't', parameters: { blob: 'y'.repeat(1000) } }));
    expect(only(definition(many), 'too_large').message).toContain('262144 bytes');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('refuses values that are not JSON', () => {
    const errors = errorsOf(definition([{ id: 'a', tool: 't', parameters: { when: new Date(0), n: Number.NaN, f: () => 1 } }]));
    expect(errors.map((e) => [e.code, e.field])).toEqual([
      ['not_json', 'steps[0].parameters.when'],
      ['not_json', 'steps[0].parameters.n'],
      ['not_json', 'steps[0].parameters.f'],
    ]);
  });

  it('survives a cyclic object graph', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    const errors = errorsOf(definition([{ id: 'a', tool: 't', parameters: { loop } }]));
    expect(errors[0].code).toBe('too_deep');
  });

  it('caps the number of errors it reports', () => {
    const steps = Array.from({ length: 300 }, (_, i) => ({ id: `s${i}`, tool: 't', dependsOn: ['ghost'] }));
    const errors = errorsOf(definition(steps));
    expect(errors).toHaveLength(MAX_REPORTED_ERRORS + 1);
    expect(errors[MAX_REPORTED_ERRORS]).toMatchObject({ code: 'too_many_errors', message: '200 more errors not shown' });
  });
});

describe('workflowDefinitionJsonSchema', () => {
  it('describes the definition as written, for an LLM to answer in', () => {
    const schema = workflowDefinitionJsonSchema() as {
      $schema: string;
      required: string[];
      additionalProperties: boolean;
      properties: { steps: { maxItems: number; items: { required: string[]; properties: Record<string, Record<string, unknown>> } } };
    };
    expect(schema.$schema).toContain('2020-12');
    expect(schema.required.sort()).toEqual(['description', 'name', 'source', 'steps']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.steps.maxItems).toBe(500);
    const step = schema.properties.steps.items;
    expect(step.required.sort()).toEqual(['id', 'tool']);
    expect(step.properties.id.pattern).toBe('^[A-Za-z0-9_-]{1,64}$');
    expect(step.properties.parameters.type).toBe('object');
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
