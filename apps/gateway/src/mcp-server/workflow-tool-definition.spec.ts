import type { WorkflowDefinition } from '@toolpath/workflow';
import { assignToolNames, toolNameSlug, workflowTool } from './workflow-tool-definition';

describe('workflow tool names', () => {
  it('are lower-case [a-z0-9_] with single underscores, at most 64 characters', () => {
    expect(toolNameSlug('Refund order')).toBe('refund_order');
    expect(toolNameSlug('  Café: résumé -> PDF!! ')).toBe('cafe_resume_pdf');
    expect(toolNameSlug('a__b')).toBe('a_b');
    expect(toolNameSlug('💥')).toBe('workflow');
    const long = toolNameSlug('x'.repeat(100));
    expect(long).toHaveLength(64);
    for (const name of ['Refund order', 'Café: résumé', 'x'.repeat(100)]) expect(toolNameSlug(name)).toMatch(/^[a-z0-9]+(_[a-z0-9]+)*$/);
  });

  it('are unique: the oldest keeps the plain name, reserved names are never taken', () => {
    const names = assignToolNames(
      [
        { id: 'wf_aaaaaaaaaa01', name: 'Refund order' },
        { id: 'wf_bbbbbbbbbb02', name: 'refund-order' },
        { id: 'wf_cccccccccc03', name: 'Run workflow' },
      ],
      new Set(['run_workflow']),
    );
    expect(names.get('wf_aaaaaaaaaa01')).toBe('refund_order');
    expect(names.get('wf_bbbbbbbbbb02')).toBe('refund_order_bbbbbb02');
    expect(names.get('wf_cccccccccc03')).toBe('run_workflow_cccccc03');
    expect(new Set(names.values()).size).toBe(3);
  });

  it('never have a double underscore (the namespace of upstream tools), even when cut for a suffix', () => {
    const name = `${'a'.repeat(54)} b ${'c'.repeat(20)}`;
    const names = assignToolNames(
      [
        { id: 'wf_000000000001', name },
        { id: 'wf_a00000002', name },
        // The same id tail: the counter makes it unique.
        { id: 'wf_b00000002', name },
      ],
      new Set(),
    );
    expect(new Set(names.values()).size).toBe(3);
    expect(names.get('wf_b00000002')).toMatch(/_00000002_2$/);
    for (const n of names.values()) {
      expect(n).not.toContain('__');
      expect(n.length).toBeLessThanOrEqual(64);
    }
  });
});

describe('workflowTool', () => {
  const definition: WorkflowDefinition = {
    name: 'Refund order',
    description: 'Refund a customer order',
    source: 'learned',
    variables: { type: 'object', properties: { orderId: { type: 'string', description: 'the order' } }, required: ['orderId'], additionalProperties: false },
    steps: [
      { id: 'a', tool: 'orders.get', parameters: {} },
      { id: 'b', tool: 'payments.refund', parameters: {} },
    ],
  };

  it("takes its input schema from the variables and its description from the workflow and its evidence", () => {
    const tool = workflowTool('refund_order', { id: 'wf_1', version: 3, definition, evidence: { patternId: 'p_9', support: 12, successRate: 0.917 } }, 30_000);
    expect(tool.inputSchema).toEqual({ type: 'object', properties: { orderId: { type: 'string', description: 'the order' } }, required: ['orderId'], additionalProperties: false });
    expect(tool.description).toContain('Refund a customer order');
    expect(tool.description).toContain('(wf_1, version 3, learned): calls orders.get → payments.refund');
    expect(tool.description).toContain('learned from 12 sessions, 91.7% successful (pattern p_9)');
    expect(tool.description).toContain('waits up to 30 s');
    expect(tool._meta).toEqual({ 'toolpath/workflowId': 'wf_1', 'toolpath/version': 3 });
  });

  it('has an empty object schema when the workflow declares no variables, and no evidence line without a pattern', () => {
    const { variables: _v, ...bare } = definition;
    const tool = workflowTool('x', { id: 'wf_2', version: 1, definition: bare }, 5000);
    expect(tool.inputSchema).toEqual({ type: 'object', properties: {} });
    expect(tool.description).not.toContain('Evidence');
  });
});
